"""The calendar engine: feed bytes -> occurrences with pool requests, bounded, and the problems
found on the way.
"""
