"""The one error type a user must act on before a run can go on.

Setup problems (a missing model, a CSV without a score column, a warehouse another process
holds, a corrections file that does not fit) subclass ``IngestError``: the CLI catches this one
type, prints its message as one line and exits 2, before anything is written. Problems with
one video (a dead URL, a file that is not a video) are not errors of this kind: they become a
row's status and reason, and the run goes on."""

from __future__ import annotations


class IngestError(Exception):
    """A setup or input problem; the message says what is wrong and what to do."""
