"""grader: an autograder for gradient-descent and backpropagation exercises."""

__version__ = "0.1.0"
