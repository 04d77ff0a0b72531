"""Domain events other parts of Lightbox listen to (webhooks, batch completion).

Senders fire them inside the transaction that made the change, so a receiver that
writes rows (an outbox) commits or rolls back with it. A receiver that talks to the
outside world must wait for `transaction.on_commit`.
"""

from django.dispatch import Signal

# kwargs: version (ImageVersion, refreshed), status (the new status), verb (e.g. "publish").
version_status_changed = Signal()

# kwargs: batch (UploadBatch). Sent once, when a closed batch has no version left to process.
batch_completed = Signal()

# kwargs: export (catalog.exports Export). Sent once, when an export succeeded or failed.
export_completed = Signal()
