//go:build !linux

package arena

import "errors"

// The arena relies on MAP_NORESERVE and MADV_DONTNEED as Linux defines
// them; elsewhere NewArena reports errors.ErrUnsupported.

func mapAnon(int) ([]byte, error) { return nil, errors.ErrUnsupported }

func unmap([]byte) error { return errors.ErrUnsupported }

func dontNeed([]byte) error { return nil }

func hugepage([]byte, bool) error { return nil }
