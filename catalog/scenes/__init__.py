"""Lifestyle scenes (issue #17): scene templates an admin marks up, rules that put a
category's products into them, and the scene versions those rules derive from cut-outs."""
