// Package real runs a scenario's workloads on this host (placeholder doc).
package real
