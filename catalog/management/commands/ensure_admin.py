from __future__ import annotations

import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from catalog.roles import ADMIN, assign_role


class Command(BaseCommand):
    help = (
        "Create the first admin if there is none. The password comes from "
        "$LIGHTBOX_ADMIN_PASSWORD or is generated and printed once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default=os.environ.get("LIGHTBOX_ADMIN_USERNAME", "admin"))
        parser.add_argument("--email", default=os.environ.get("LIGHTBOX_ADMIN_EMAIL", ""))

    def handle(self, *args, username: str, email: str, **options):
        User = get_user_model()
        if (
            User.objects.filter(groups__name=ADMIN).exists()
            or User.objects.filter(is_superuser=True).exists()
        ):
            self.stdout.write("An admin already exists; nothing to do.")
            return
        if User.objects.filter(username=username).exists():
            raise CommandError(f"user {username!r} exists but is not an admin; pick another --username")
        password = os.environ.get("LIGHTBOX_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        user = User.objects.create_user(
            username, email=email, password=password, is_superuser=True, is_staff=True
        )
        assign_role(user, ADMIN)
        if "LIGHTBOX_ADMIN_PASSWORD" in os.environ:
            self.stdout.write(self.style.SUCCESS(f"Admin {username!r} created."))
        else:
            self.stdout.write(self.style.SUCCESS(f"Admin {username!r} created with password: {password}"))
            self.stdout.write("It is shown only this once; change it after logging in.")
