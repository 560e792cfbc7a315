"""Calendar problems of what is coming, told early and once: the log, an Event, a metric, an
optional webhook.
"""
