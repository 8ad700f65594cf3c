package suite

// Placeholder until the image executors land.
func quickImages(seed uint64) []Spec { return nil }
func fullImages(seed uint64) []Spec  { return nil }
