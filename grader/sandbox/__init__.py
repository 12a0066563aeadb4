"""Run student code in a child process and exchange only plain numeric data with it.

INTERFACE STUB: being implemented.
"""
