// Package compose holds berth's compose corpus test: compose files in the
// shapes public example projects use (corpus/<project>/, written for
// berth, not copied), each run through `berth convert` in-process, with
// the outcome checked against the project's expected.txt and the
// converted Environment checked against the API's own validation.
//
//	go test ./test/compose -run TestCorpus -v          # the share that converts, the refused fields
//	go test ./test/compose -run TestCorpus -update     # rewrite every expected.txt after a mapping change
//
// The package has no code of its own besides this comment; the corpus is
// data and the test reads it.
package compose
