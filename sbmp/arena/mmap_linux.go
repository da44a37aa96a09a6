package arena

import "syscall"

// mapAnon reserves size bytes of private anonymous memory. MAP_NORESERVE
// lets a large arena be reserved without committing swap or RAM for it:
// pages are backed only when first touched.
func mapAnon(size int) ([]byte, error) {
	return syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS|syscall.MAP_NORESERVE)
}

// unmap releases a mapping mapAnon returned.
func unmap(b []byte) error { return syscall.Munmap(b) }

// dontNeed gives b's physical pages back to the kernel. The range stays
// mapped; on private anonymous memory the next touch reads zeros.
func dontNeed(b []byte) error { return syscall.Madvise(b, syscall.MADV_DONTNEED) }

// hugepage marks b for transparent huge pages at fault (MADV_HUGEPAGE),
// or takes the mark off (MADV_NOHUGEPAGE).
func hugepage(b []byte, on bool) error {
	advice := syscall.MADV_NOHUGEPAGE
	if on {
		advice = syscall.MADV_HUGEPAGE
	}
	return syscall.Madvise(b, advice)
}
