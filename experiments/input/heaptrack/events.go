package heaptrack

// parseAlloc handles "+ INFO_INDEX", or "+ SIZE TRACE PTR" in version 0.
func (r *Reader) parseAlloc(args []byte) (Op, bool, error) {
	r.sawData = true
	var index uint64
	if r.fileVersion >= 1 {
		var f [1]uint64
		if err := r.exactHexFields('+', args, f[:], "allocation info index"); err != nil {
			return Op{}, false, err
		}
		if f[0] >= uint64(len(r.infos)) {
			return Op{}, false, r.errorf("'+' line names allocation info %d, but only %d are defined", f[0], len(r.infos))
		}
		index = f[0]
		r.lastKey = index
	} else {
		var f [3]uint64
		if err := r.exactHexFields('+', args, f[:], "size, trace index, pointer"); err != nil {
			return Op{}, false, err
		}
		i, err := r.v0Info(f[0], f[1])
		if err != nil {
			return Op{}, false, err
		}
		index = uint64(i)
		if r.v0Ptrs == nil {
			r.v0Ptrs = make(map[uint64]uint32)
		}
		// A pointer allocated twice without a free in between is
		// overwritten, as heaptrack's PointerMap does.
		r.v0Ptrs[f[2]] = i
		r.lastKey = f[2]
	}
	info := &r.infos[index]
	info.live++
	return Op{Kind: KindAlloc, Info: uint32(index), SizeBytes: info.SizeBytes, StackDepth: info.StackDepth}, true, nil
}

// v0Info returns the allocation info index of a version-0 allocation,
// numbering new (size, trace) pairs in order of first appearance.
func (r *Reader) v0Info(size, trace uint64) (uint32, error) {
	key := v0Key{size: size, trace: trace}
	if i, ok := r.v0Infos[key]; ok {
		return i, nil
	}
	i := uint32(len(r.infos))
	if err := r.addInfo(size, trace); err != nil {
		return 0, err
	}
	if r.v0Infos == nil {
		r.v0Infos = make(map[v0Key]uint32)
	}
	r.v0Infos[key] = i
	return i, nil
}

// parseFree handles "- INFO_INDEX", or "- PTR" in version 0.
func (r *Reader) parseFree(args []byte) (Op, bool, error) {
	r.sawData = true
	var f [1]uint64
	if err := r.exactHexFields('-', args, f[:], "allocation info index"); err != nil {
		return Op{}, false, err
	}
	var index uint64
	if r.fileVersion >= 1 {
		if f[0] >= uint64(len(r.infos)) {
			return Op{}, false, r.errorf("'-' line names allocation info %d, but only %d are defined", f[0], len(r.infos))
		}
		index = f[0]
	} else {
		i, ok := r.v0Ptrs[f[0]]
		if !ok {
			// heaptrack skips these without touching its state.
			r.tolerated.UnknownPointerFrees++
			return Op{}, false, nil
		}
		delete(r.v0Ptrs, f[0])
		index = uint64(i)
	}
	temporary := r.lastKey == f[0]
	r.lastKey = 0
	info := &r.infos[index]
	op := Op{Kind: KindFree, Info: uint32(index), SizeBytes: info.SizeBytes, Temporary: temporary}
	if info.live == 0 {
		r.tolerated.UnmatchedFrees++
		r.tolerated.UnmatchedFreeBytes += info.SizeBytes
		op.Kind = kindUnmatchedFree
		return op, r.tables != nil, nil
	}
	info.live--
	return op, true, nil
}
