"""The feeds: fetched (bounded, in a worker process) and parsed off the round, the last good copy
of each kept.
"""
