package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/term"
)

// The FROM scratch image has no shell and no coreutils; these subcommands
// are what `berth exec` and `berth cp` tests run inside it:
//
//	testapp cat [PATH...]    copy the files, or stdin when none, to stdout
//	testapp print [--stdout TEXT] [--stderr TEXT] [--exit N]
//	                         write TEXT to each stream, then exit N
//	testapp tty              print "tty WIDTHxHEIGHT" and exit 0 when stdin is
//	                         a terminal (waiting up to 5s for a size when it
//	                         is 0x0), else "not a tty" and exit 1
//	testapp stat PATH...     print "MODE SIZE PATH" (octal permission bits,
//	                         type letter d/l/f) for each path, not following links
var tools = map[string]func(args []string, stdin io.Reader, stdout, stderr io.Writer) int{
	"cat":   runCat,
	"print": runPrint,
	"tty":   runTTY,
	"stat":  runStat,
}

func runCat(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		if _, err := io.Copy(stdout, stdin); err != nil {
			fmt.Fprintf(stderr, "testapp cat: %v\n", err)
			return 1
		}
		return 0
	}
	code := 0
	for _, p := range args {
		f, err := os.Open(p)
		if err != nil {
			fmt.Fprintf(stderr, "testapp cat: %v\n", err)
			code = 1
			continue
		}
		_, err = io.Copy(stdout, f)
		f.Close()
		if err != nil {
			fmt.Fprintf(stderr, "testapp cat: %s: %v\n", p, err)
			code = 1
		}
	}
	return code
}

func runPrint(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("testapp print", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("stdout", "", "text for stdout")
	errText := fs.String("stderr", "", "text for stderr")
	exit := fs.Int("exit", 0, "exit code")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fmt.Fprint(stdout, *out)
	fmt.Fprint(stderr, *errText)
	return *exit
}

func runTTY(_ []string, _ io.Reader, stdout, _ io.Writer) int {
	if !term.IsTerminal(int(os.Stdin.Fd())) {
		fmt.Fprintln(stdout, "not a tty")
		return 1
	}
	// A terminal whose size is not set yet (0x0: the client's first size
	// is applied just after the start on older daemons) gets a few
	// seconds for one to land.
	w, h, err := term.GetSize(int(os.Stdin.Fd()))
	for i := 0; err == nil && w == 0 && h == 0 && i < 100; i++ {
		time.Sleep(50 * time.Millisecond)
		w, h, err = term.GetSize(int(os.Stdin.Fd()))
	}
	if err != nil {
		fmt.Fprintln(stdout, "tty size unknown")
		return 0
	}
	fmt.Fprintf(stdout, "tty %dx%d\n", w, h)
	return 0
}

func runStat(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	code := 0
	for _, p := range args {
		fi, err := os.Lstat(p)
		if err != nil {
			fmt.Fprintf(stderr, "testapp stat: %v\n", err)
			code = 1
			continue
		}
		kind := "f"
		switch {
		case fi.IsDir():
			kind = "d"
		case fi.Mode()&os.ModeSymlink != 0:
			kind = "l"
		}
		fmt.Fprintf(stdout, "%s%04o %d %s\n", kind, fi.Mode().Perm(), fi.Size(), p)
	}
	return code
}
