package plan

import (
	"fmt"
	"unicode/utf8"
)

// Reasons of an operation that failed, shown in Ready and Progressing while
// it keeps failing (the way a Pod shows ImagePullBackOff), so that
// `berth wait` and `berth get -o wide` say why, not only the events.
const (
	ReasonNetworkCreateFailed  = "NetworkCreateFailed"
	ReasonNetworkConnectFailed = "NetworkConnectFailed"
	ReasonVolumeCreateFailed   = "VolumeCreateFailed"
	ReasonImageNotFound        = "ImageNotFound"
	ReasonCreateFailed         = "CreateFailed"
	ReasonStartFailed          = "StartFailed"
	ReasonCopyFilesFailed      = "CopyFilesFailed"
	ReasonRemoveFailed         = "RemoveFailed"
)

// opFailureReasons are the reasons FailureReason gives, but for
// ImagePullFailed, which a pull back-off also gives (WaitImagePullFailed).
var opFailureReasons = map[string]bool{
	ReasonNetworkCreateFailed: true, ReasonNetworkConnectFailed: true, ReasonVolumeCreateFailed: true,
	ReasonImageNotFound: true, ReasonCreateFailed: true, ReasonStartFailed: true,
	ReasonCopyFilesFailed: true, ReasonRemoveFailed: true, string(WaitImagePullFailed): true,
}

// IsOpFailureReason says whether a condition reason is an operation that
// failed and is being retried, for clients that show why a wait goes on.
func IsOpFailureReason(reason string) bool { return opFailureReasons[reason] }

// OpFailure is the operation that failed in an Environment's latest
// reconcile, and for how many reconciles in a row an operation failed with
// the same reason. The reconciler keeps it in memory and puts it in
// Observed.Failure; a restarted manager learns it again at its first try.
type OpFailure struct {
	Reason string
	// Op says what the operation was doing (Op.Reason).
	Op string
	// Error is the Docker layer's answer, bounded by maxFailureText.
	Error string
	Count int32
}

// maxFailureText bounds an error copied into a condition: Docker's answers
// can quote whole request bodies.
const maxFailureText = 1024

// FailureReason names the failure of an op of kind k. imageMissing: Docker
// said the image does not exist (a create whose image went away).
func FailureReason(k OpKind, imageMissing bool) string {
	switch k {
	case OpEnsureNetwork:
		return ReasonNetworkCreateFailed
	case OpConnectNetwork:
		return ReasonNetworkConnectFailed
	case OpEnsureVolume:
		return ReasonVolumeCreateFailed
	case OpPullImage:
		return string(WaitImagePullFailed)
	case OpCreateContainer:
		if imageMissing {
			return ReasonImageNotFound
		}
		return ReasonCreateFailed
	case OpStartContainer:
		return ReasonStartFailed
	case OpCopyFiles:
		return ReasonCopyFilesFailed
	case OpRemoveContainer, OpRemoveNetwork, OpRemoveVolume, OpDisconnectStaleEndpoints:
		return ReasonRemoveFailed
	}
	return string(k) + "Failed"
}

// NextFailure folds a reconcile's first failed op into prev: nil when no op
// failed (an op that succeeds, or a plan with nothing to do, ends the
// streak), a count of one for a new reason, prev's count plus one for the
// same reason.
func NextFailure(prev *OpFailure, failed *Op, errText string, imageMissing bool) *OpFailure {
	if failed == nil {
		return nil
	}
	f := &OpFailure{Reason: FailureReason(failed.Kind, imageMissing), Op: failed.Reason,
		Error: truncateText(errText, maxFailureText), Count: 1}
	if prev != nil && prev.Reason == f.Reason {
		f.Count = prev.Count + 1
	}
	return f
}

// Message is the condition message: what failed, how often, and why.
func (f *OpFailure) Message() string {
	times := "once"
	if f.Count > 1 {
		times = fmt.Sprintf("%d times in a row", f.Count)
	}
	return fmt.Sprintf("%s failed %s, retrying with back-off: %s", f.Op, times, f.Error)
}

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
