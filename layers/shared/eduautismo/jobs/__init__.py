"""The daily job: bounded review reminders, the coordinators' escalation summary, and cleanup (README
"Reminders").

"Now" is the scheduled event's time, never the wall clock: the handler (``handlers.py``) fixes the context's
clock to it, so a retried or replayed event computes the same reminders. ``schemas.py`` holds the request,
the summary and the event parsing, ``service.py`` the run (one short transaction per statement), and
``repository.py`` every statement.
"""
