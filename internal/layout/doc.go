// Package layout holds no code: its tests keep the module's agreed shape.
// They assert the dependency rule (which package may import which of
// ours), that the models do no I/O, and that no package-level variable
// is written after init.
package layout
