"""Event reports: what happened on a pool around each calendar event, measured, and the advice for
the next one.
"""
