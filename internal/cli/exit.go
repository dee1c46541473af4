package cli

import "fmt"

// ExitError ends berth with Code: the exit code of the command berth run or
// berth exec ran (or berth run's own 125/126/127). Message, when set, has
// not been printed yet; an empty one means whatever there was to say was
// said.
type ExitError struct {
	Code    int
	Message string
}

func (e *ExitError) Error() string {
	if e.Message != "" {
		return e.Message
	}
	return fmt.Sprintf("exit status %d", e.Code)
}
