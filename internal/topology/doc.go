// Package topology holds the scale-out test: kabiforge on the production
// shape, started for real on one machine and then disturbed. PostgreSQL
// (Debian's) holds Temporal's persistence and visibility, its schema applied
// by the Temporal server's own schema tool; a full Temporal server runs from
// a cluster configuration with mTLS; versitygw serves the artifact store and
// the repositories over S3; a control worker runs on the host and two build
// hosts each in its own network namespace with its own address, reaching the
// server and S3 only over their veth links. The tests kill a build host,
// cut its link, restart the server and stop PostgreSQL mid-rebuild, and
// compare each repository with an undisturbed run's.
package topology
