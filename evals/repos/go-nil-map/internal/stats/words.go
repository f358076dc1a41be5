package stats

import "strings"

func WordCounts(text string) map[string]int {
	var counts map[string]int
	for _, word := range strings.Fields(text) {
		counts[strings.ToLower(word)]++
	}
	return counts
}
