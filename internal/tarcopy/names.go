package tarcopy

import (
	"fmt"
	"path"
	"strings"
)

// entryName checks a tar entry's name and returns it with its first
// element replaced by as (as "" keeps it). root is the first element every
// entry must share: Docker's archives and Pack's have one top entry, named
// after the copied path.
func entryName(name, root, as string) (string, error) {
	clean, err := cleanName(name)
	if err != nil {
		return "", err
	}
	first, rest, _ := strings.Cut(clean, "/")
	if first != root {
		return "", fmt.Errorf("entry %q is outside the archive's root %q", name, root)
	}
	if as != "" {
		first = as
	}
	if rest == "" {
		return first, nil
	}
	return first + "/" + rest, nil
}

// cleanName refuses the names that could reach outside the target: an
// absolute path, a ".." element, an empty name. A trailing slash
// (directories) and "./" prefixes are dropped.
func cleanName(name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("entry with an empty name")
	}
	if strings.HasPrefix(name, "/") || strings.Contains(name, "\\") {
		return "", fmt.Errorf("entry %q: absolute or non-slash path", name)
	}
	for _, el := range strings.Split(name, "/") {
		if el == ".." {
			return "", fmt.Errorf("entry %q: \"..\" would leave the target", name)
		}
	}
	clean := path.Clean(name)
	if clean == "." || clean == "" {
		return "", fmt.Errorf("entry %q names no file", name)
	}
	return clean, nil
}

// RootOf returns the first element of an entry name, the archive's root.
func RootOf(name string) (string, error) {
	clean, err := cleanName(name)
	if err != nil {
		return "", err
	}
	first, _, _ := strings.Cut(clean, "/")
	return first, nil
}

// ValidBase reports whether s can be an archive's root name: one path
// element, not "." or "..".
func ValidBase(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, "/\\\x00")
}
