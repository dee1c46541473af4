// Package dockertest runs a second Docker daemon of a test's own on this
// machine, for the specs where berth serves two Docker hosts (issue 13: a
// manager per host, their containers never mixing) without a second machine.
//
// Start picks a free slot N under the base directory (default
// /var/lib/berth-test, on the root filesystem where overlay2 works) and
// gives the daemon everything of its own: the directory dN with its unix
// socket (no TCP listener), data root, exec root, pidfile and daemon.json; a
// Linux bridge berthbrN it creates with an address from the /16 block
// 10.(160+N).0.0/16, chosen only when no route of this host and no network
// of the main daemon overlaps it; the containerd namespaces berthtest-dN
// (and berthtest-dN-plugins); the cgroup parent /berthtest-dN. It runs the
// same dockerd binary with --iptables=false, --ip-masq=false,
// --ip-forward=false (and --ip6tables=false where the flag exists), so it
// never changes the host's firewall or sysctls, and with --bridge berthbrN,
// never --bridge none: that deletes the main daemon's docker0.
//
// Without --containerd, Debian's dockerd 20.10 starts a containerd of its
// own (socket under the exec root, state under the data root) unless a
// system containerd listens on /run/containerd/containerd.sock; in that case
// the daemons share it and the namespaces keep their containers apart.
//
// Networks on the second daemon should be created with explicit subnets from
// Daemon.AddressPool (berth does, given --docker-address-pool): the dockerd
// default-address-pool it gets on its fresh start is a small one of its own,
// and a daemon restarted over an existing data root is never given one,
// because dockerd 20.10 then deletes docker0 (see dockerdArgs).
//
// Stop stops every container the daemon holds (docker stop, never a forced
// removal), removes its networks, SIGTERMs dockerd and waits, then unmounts
// whatever is left under dN, deletes berthbrN, the cgroup parent and dN; a
// dockerd that died under the test is started once more first, so that its
// still-running containers end gracefully. A test that crashed leaves its slot's lock file unlocked: the next Start
// finds the slot by its marker file, restarts its dockerd on the old
// directories (which stops the leftover containers gracefully) and cleans it
// the same way. Nothing without the marker, and nothing of the main daemon,
// is touched.
package dockertest
