package suite

// Placeholder until the tabular executors land.
func quickTabular(seed uint64) []Spec { return nil }
func fullTabular(seed uint64) []Spec  { return nil }
