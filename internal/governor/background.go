package governor

import "context"

type backgroundKey struct{}

// WithBackground marks ctx's Docker calls as background work: their
// writes and reads go through LaneBackground, behind every call someone
// waits for. The pool controller refills its standbys this way, so a
// refill never delays a claim or an apply.
func WithBackground(ctx context.Context) context.Context {
	return context.WithValue(ctx, backgroundKey{}, true)
}

// IsBackground says whether ctx was marked by WithBackground.
func IsBackground(ctx context.Context) bool {
	v, _ := ctx.Value(backgroundKey{}).(bool)
	return v
}
