package ocsvm

// colCache holds the most recently used kernel columns, as libsvm's Cache
// does: column i, once computed for the first n positions, is kept until
// the least recently used columns make room for others. Values are
// float32, as libsvm stores them (its Qfloat), which halves the memory and
// is what makes the solver's arithmetic match libsvm's.
//
// Unlike libsvm, which allocates each column at the length asked for and
// grows it, every slot has room for all l positions: at most slots
// columns exist at once, memory is slots·l·4 bytes from the first use to
// the end, and an evicted column's buffer is reused rather than freed, so
// the garbage collector never sees the cache churn.
type colCache struct {
	l     int
	slots int
	// slot[i] is the buffer of column i (nil when not cached), and
	// filled[i] how many of its leading positions hold values.
	slot   [][]float32
	filled []int
	// prev and next link the cached columns from least (head) to most
	// (tail) recently used; -1 ends the list.
	prev, next []int
	head, tail int
	// used counts the buffers allocated so far (at most slots); spare
	// holds those of dropped columns, for reuse.
	used  int
	spare [][]float32
}

func newColCache(l, slots int) *colCache {
	c := &colCache{l: l, slots: max(slots, 2), slot: make([][]float32, l), filled: make([]int, l),
		prev: make([]int, l), next: make([]int, l), head: -1, tail: -1}
	return c
}

func (c *colCache) unlink(i int) {
	p, n := c.prev[i], c.next[i]
	if p >= 0 {
		c.next[p] = n
	} else {
		c.head = n
	}
	if n >= 0 {
		c.prev[n] = p
	} else {
		c.tail = p
	}
}

func (c *colCache) pushBack(i int) {
	c.prev[i], c.next[i] = c.tail, -1
	if c.tail >= 0 {
		c.next[c.tail] = i
	} else {
		c.head = i
	}
	c.tail = i
}

// get returns column i's buffer, marked most recently used, and how many
// of its leading values are already computed; the caller fills the rest up
// to the length it needs and records it with setFilled. The least
// recently used column gives up its buffer when all slots are taken.
func (c *colCache) get(i int) ([]float32, int) {
	if c.slot[i] != nil {
		c.unlink(i)
		c.pushBack(i)
		return c.slot[i], c.filled[i]
	}
	var buf []float32
	if k := len(c.spare); k > 0 {
		buf, c.spare = c.spare[k-1], c.spare[:k-1]
	} else if c.used < c.slots {
		buf = make([]float32, c.l)
		c.used++
	} else {
		v := c.head
		c.unlink(v)
		buf, c.slot[v], c.filled[v] = c.slot[v], nil, 0
	}
	c.slot[i], c.filled[i] = buf, 0
	c.pushBack(i)
	return buf, 0
}

func (c *colCache) setFilled(i, n int) { c.filled[i] = n }

// swapAll exchanges positions i and j of each pair, in order, in every
// cached column and in the columns' own identities, as the solver's
// reordering of the active set requires: the result is that of libsvm's
// swap_index applied pair by pair. A column computed past i but not past j
// cannot hold position j's value at i, so it is dropped (its buffer kept
// for reuse), as libsvm drops it.
//
// libsvm walks every cached column for each pair, which touches two
// scattered values per column per pair; here the identities are exchanged
// first and then each column applies the whole list while it is in the
// processor's cache, which does the same exchanges several times faster.
func (c *colCache) swapAll(pairs [][2]int) {
	if len(pairs) == 0 {
		return
	}
	for _, p := range pairs {
		i, j := p[0], p[1]
		ci, cj := c.slot[i] != nil, c.slot[j] != nil
		if ci {
			c.unlink(i)
		}
		if cj {
			c.unlink(j)
		}
		c.slot[i], c.slot[j] = c.slot[j], c.slot[i]
		c.filled[i], c.filled[j] = c.filled[j], c.filled[i]
		if cj {
			c.pushBack(i)
		}
		if ci {
			c.pushBack(j)
		}
	}
	for h := c.head; h >= 0; {
		nx := c.next[h]
		col, f := c.slot[h], c.filled[h]
		for _, p := range pairs {
			i, j := min(p[0], p[1]), max(p[0], p[1])
			if f <= i {
				continue
			}
			if f <= j {
				c.unlink(h)
				c.free(h)
				break
			}
			col[i], col[j] = col[j], col[i]
		}
		h = nx
	}
}

// free drops column h (already unlinked), keeping its buffer for reuse.
func (c *colCache) free(h int) {
	buf := c.slot[h]
	c.slot[h], c.filled[h] = nil, 0
	c.spare = append(c.spare, buf)
}
