"""The configuration file -> one frozen Settings object: the key table, the sections, the kinds of
keys.
"""
