package admission

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// RequestsPath is the field a refusal names: the requests are the sum over
// every service's resources.
var RequestsPath = field.NewPath("spec", "services").Key("*").Child("resources")

// ValidateRequests refuses, at apply time, an Environment whose memory
// requests exceed the whole budget: it could never be admitted, and
// waiting for ever in the queue would hide the mistake. budget 0 is
// unlimited (or not known yet): nothing is refused.
func ValidateRequests(requests, budget int64) field.ErrorList {
	if budget <= 0 || requests <= budget {
		return nil
	}
	return field.ErrorList{field.Forbidden(RequestsPath, fmt.Sprintf(
		"memory requests %s (the services' resources.requests.memory, or the manager's --default-memory-reservation, times replicas) exceed the manager's whole memory budget %s (--memory-budget)",
		quantity(requests), quantity(budget)))}
}
