"""Is it me or is it them: line local failures up against what upstream declared.

Pure: windows and a time in, a verdict out. The store supplies the rows
(``monitor.store.evidence``); nothing here reads the clock or the database.
"""
