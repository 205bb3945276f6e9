"""Reporters turn a `Summary` (or one finished check) into output; they never decide the verdict."""
