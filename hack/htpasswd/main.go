// Command htpasswd prints one line of an htpasswd file with a bcrypt hash,
// the only hash the registry's htpasswd auth accepts, so
// hack/ensure-auth-registry.sh needs no apache2-utils.
//
// Usage: go run ./hack/htpasswd USER < password-file
// The password is read from standard input (never from the command line,
// where ps would show it); one trailing newline is dropped.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

func main() {
	if len(os.Args) != 2 || os.Args[1] == "" || strings.ContainsAny(os.Args[1], ":\n") {
		fmt.Fprintln(os.Stderr, "usage: htpasswd USER < password (USER without ':' or newline)")
		os.Exit(2)
	}
	pw, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "htpasswd: reading the password:", err)
		os.Exit(1)
	}
	pw = []byte(strings.TrimSuffix(string(pw), "\n"))
	if len(pw) == 0 {
		fmt.Fprintln(os.Stderr, "htpasswd: empty password")
		os.Exit(1)
	}
	hash, err := bcrypt.GenerateFromPassword(pw, bcrypt.DefaultCost)
	if err != nil {
		fmt.Fprintln(os.Stderr, "htpasswd:", err)
		os.Exit(1)
	}
	fmt.Printf("%s:%s\n", os.Args[1], hash)
}
