package host

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// This file measures the disk under a directory the way the kernel
// model's disk costs were measured (model/kernel: DefaultReadNsPerPage,
// DefaultSwapReadaheadNsPerPage), so that a simulation of this host can
// use this host's disk on this day. Unlike the rest of the package it
// does not read the host's state: it times I/O.

// Disk is the read latency of the disk under a directory.
type Disk struct {
	// Dir is the directory whose file system was measured.
	Dir string `json:"dir"`
	// Reads is how many reads of each size were timed.
	Reads int `json:"reads"`
	// ReadNs is the mean latency of a random 4 KiB O_DIRECT read, and
	// Read32Ns of a random 32 KiB one (a swap readahead cluster of 8
	// pages), timed one at a time, alternating.
	ReadNs   int64 `json:"read_ns"`
	Read32Ns int64 `json:"read32_ns"`
	// ReadaheadNsPerPage is what each of the 7 further pages of the
	// 32 KiB read adds: (Read32Ns - ReadNs) / 7, at least 0.
	ReadaheadNsPerPage int64 `json:"readahead_ns_per_page"`
}

// diskPage is the block both read sizes are aligned to.
const diskPage = 4096

// MeasureDisk measures the disk under dir once: NewDiskProbe, one
// Measure of reads reads of each size, Close.
func MeasureDisk(dir string, fileBytes int64, reads int) (Disk, error) {
	p, err := NewDiskProbe(dir, fileBytes)
	if err != nil {
		return Disk{}, err
	}
	d, err := p.Measure(reads)
	if cerr := p.Close(); err == nil {
		err = cerr
	}
	return d, err
}

// DiskProbe is a scratch file under a directory that Measure times
// reads of, again and again (the validation suite measures beside each
// real run, as the disk's latency drifts over minutes on a shared host).
type DiskProbe struct {
	dir, path string
	fd        int
	buf       []byte
	clusters  int64
	rng       *rand.Rand
}

// diskCluster is the larger read: a swap readahead cluster of 8 pages.
const diskCluster = 8 * diskPage

// NewDiskProbe writes a scratch file of fileBytes in dir (with data,
// synced, so every block is allocated on the device) and opens it with
// O_DIRECT, which keeps the page cache out: each read goes to the device.
// It fails on a file system without O_DIRECT (tmpfs), naming it, and
// leaves no file behind on any error. Close removes the file.
func NewDiskProbe(dir string, fileBytes int64) (*DiskProbe, error) {
	if fileBytes < 2*diskCluster || fileBytes%diskCluster != 0 {
		return nil, fmt.Errorf("measure disk: %d bytes is not two or more 32 KiB blocks", fileBytes)
	}
	f, err := os.CreateTemp(dir, "sbmpsim-disk-*")
	if err != nil {
		return nil, fmt.Errorf("measure disk: %w", err)
	}
	p := &DiskProbe{dir: dir, path: f.Name(), fd: -1, clusters: fileBytes / diskCluster, rng: rand.New(rand.NewPCG(1, 2))}
	if err := p.fill(f, fileBytes); err != nil {
		os.Remove(p.path)
		return nil, err
	}
	fd, err := unix.Open(p.path, unix.O_RDONLY|unix.O_DIRECT, 0)
	if err != nil {
		os.Remove(p.path)
		if errors.Is(err, unix.EINVAL) {
			return nil, fmt.Errorf("measure disk: the file system of %s has no O_DIRECT (tmpfs?): %w", dir, err)
		}
		return nil, fmt.Errorf("measure disk: open %s: %w", p.path, err)
	}
	p.fd = fd
	// An anonymous mapping is page-aligned, as O_DIRECT wants the buffer.
	if p.buf, err = unix.Mmap(-1, 0, diskCluster, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS); err != nil {
		p.Close()
		return nil, fmt.Errorf("measure disk: %w", err)
	}
	return p, nil
}

// fill writes fileBytes of data to f, syncs and closes it.
func (p *DiskProbe) fill(f *os.File, fileBytes int64) error {
	chunk := make([]byte, 1<<20)
	for i := range chunk {
		chunk[i] = byte(i*131 + 7) // not zeros: no file system may skip the blocks
	}
	for w := int64(0); w < fileBytes; w += int64(len(chunk)) {
		n := min(int64(len(chunk)), fileBytes-w)
		if _, err := f.Write(chunk[:n]); err != nil {
			f.Close()
			return fmt.Errorf("measure disk: write %s: %w", p.path, err)
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("measure disk: sync %s: %w", p.path, err)
	}
	return f.Close()
}

// Measure times reads random 4 KiB and reads random 32 KiB reads of the
// scratch file, alternating, one at a time.
func (p *DiskProbe) Measure(reads int) (Disk, error) {
	if reads < 1 {
		return Disk{}, fmt.Errorf("measure disk: %d reads", reads)
	}
	var t4, t32 time.Duration
	for range reads {
		for _, size := range []int{diskPage, diskCluster} {
			off := p.rng.Int64N(p.clusters) * diskCluster
			if size == diskPage {
				off += p.rng.Int64N(diskCluster/diskPage) * diskPage
			}
			t0 := time.Now()
			n, err := unix.Pread(p.fd, p.buf[:size], off)
			el := time.Since(t0)
			if err != nil || n != size {
				return Disk{}, fmt.Errorf("measure disk: read %d bytes at %d of %s: %d, %v", size, off, p.path, n, err)
			}
			if size == diskPage {
				t4 += el
			} else {
				t32 += el
			}
		}
	}
	return newDisk(p.dir, reads, int64(t4)/int64(reads), int64(t32)/int64(reads)), nil
}

// newDisk is a Disk with its readahead cost derived.
func newDisk(dir string, reads int, readNs, read32Ns int64) Disk {
	return Disk{Dir: dir, Reads: reads, ReadNs: readNs, Read32Ns: read32Ns, ReadaheadNsPerPage: max(0, (read32Ns-readNs)/7)}
}

// MeanDisk is the mean of measurements of the same directory, weighted
// by their reads.
func MeanDisk(ds []Disk) Disk {
	var reads int
	var t4, t32 int64
	for _, d := range ds {
		reads += d.Reads
		t4 += d.ReadNs * int64(d.Reads)
		t32 += d.Read32Ns * int64(d.Reads)
	}
	if reads == 0 {
		return Disk{}
	}
	return newDisk(ds[0].Dir, reads, t4/int64(reads), t32/int64(reads))
}

// Close removes the scratch file.
func (p *DiskProbe) Close() error {
	if p.buf != nil {
		unix.Munmap(p.buf)
		p.buf = nil
	}
	if p.fd >= 0 {
		unix.Close(p.fd)
		p.fd = -1
	}
	if err := os.Remove(p.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("measure disk: %w", err)
	}
	return nil
}
