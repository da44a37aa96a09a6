package real

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// This file adds and removes the run's swap file (kernel.swap_mb > 0):
// written in full (a swap file must have no holes), given a swap header
// (what mkswap writes), and enabled with swapon(2), so that no external
// program is needed.

// swapFile is a swap file the run enabled.
type swapFile struct {
	path      string
	sizeBytes int64
	on        bool
}

// swapMagic ends the first page of a swap area (SWAPSPACE2, version 1 of
// the header in include/linux/swap.h's union swap_header).
const swapMagic = "SWAPSPACE2"

// swapHeader returns the first page of a swap area of pages pages: the
// boot block left blank, version 1, last_page, no bad pages, a random
// uuid, a volume label, and the magic at the end of the page.
func swapHeader(pages int64) ([]byte, error) {
	h := make([]byte, pageBytes)
	binary.NativeEndian.PutUint32(h[1024:], 1)               // version
	binary.NativeEndian.PutUint32(h[1028:], uint32(pages-1)) // last_page
	binary.NativeEndian.PutUint32(h[1032:], 0)               // nr_badpages
	if _, err := rand.Read(h[1036:1052]); err != nil {       // sws_uuid
		return nil, err
	}
	copy(h[1052:1068], "sbmpsim-real") // sws_volume
	copy(h[pageBytes-len(swapMagic):], swapMagic)
	return h, nil
}

// addSwap writes a swap file of sizeBytes at path and enables it.
func addSwap(path string, sizeBytes int64) (*swapFile, error) {
	pages := sizeBytes / pageBytes
	if pages < 10 || pages > 1<<32 {
		return nil, fmt.Errorf("swap file of %d bytes: want 40 KiB .. 16 TiB", sizeBytes)
	}
	hdr, err := swapHeader(pages)
	if err != nil {
		return nil, err
	}
	s := &swapFile{path: path, sizeBytes: pages * pageBytes}
	zero := make([]byte, dropEvery)
	copy(zero, hdr)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("swap file: %w", err)
	}
	for off := int64(0); off < s.sizeBytes && err == nil; off += dropEvery {
		n := min(dropEvery, s.sizeBytes-off)
		if _, err = f.Write(zero[:n]); err == nil && off == 0 {
			clear(zero[:pageBytes])
		}
	}
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		// Its page cache is of no use: swap writes go to the blocks.
		err = unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = swapon(path)
	}
	if err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("swap file %s: %w", path, err)
	}
	s.on = true
	return s, nil
}

// remove disables the swap file (which moves anything still swapped out
// back into memory; the run's processes are gone by then, so there is
// little) and deletes it.
func (s *swapFile) remove(deadline time.Time) error {
	if s.on {
		for {
			err := swapoff(s.path)
			if err == nil || errors.Is(err, unix.EINVAL) && !swapActive(s.path) {
				break
			}
			if !errors.Is(err, unix.EBUSY) || time.Now().After(deadline) {
				return fmt.Errorf("swapoff %s: %w", s.path, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		s.on = false
	}
	if err := os.Remove(s.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("swap file: %w", err)
	}
	return nil
}

// usedBytes is how much of the swap file is in use, from /proc/swaps.
func (s *swapFile) usedBytes() int64 {
	b, err := os.ReadFile("/proc/swaps")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) >= 4 && f[0] == s.path {
			if kb, err := parseCount(f[3]); err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

// swapActive reports whether /proc/swaps lists path.
func swapActive(path string) bool {
	b, err := os.ReadFile("/proc/swaps")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n")[1:] {
		if f := strings.Fields(line); len(f) > 0 && f[0] == path {
			return true
		}
	}
	return false
}

func swapon(path string) error {
	p, err := unix.BytePtrFromString(path)
	if err != nil {
		return err
	}
	if _, _, errno := unix.Syscall(unix.SYS_SWAPON, uintptr(unsafe.Pointer(p)), 0, 0); errno != 0 {
		return fmt.Errorf("swapon: %w", errno)
	}
	return nil
}

func swapoff(path string) error {
	p, err := unix.BytePtrFromString(path)
	if err != nil {
		return err
	}
	if _, _, errno := unix.Syscall(unix.SYS_SWAPOFF, uintptr(unsafe.Pointer(p)), 0, 0); errno != 0 {
		return errno
	}
	return nil
}
