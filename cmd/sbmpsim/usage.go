package main

// usageError marks errors in how the command was called (exit code 2), as
// opposed to errors in what it was asked to do (exit code 1).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }
