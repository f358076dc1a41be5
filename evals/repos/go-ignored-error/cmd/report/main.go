package main

import (
	"fmt"
	"os"
)

func lineCount(path string) (int, error) {
	data, _ := os.ReadFile(path)
	count := 0
	for _, b := range data {
		if b == '\n' {
			count++
		}
	}
	fmt.Fprintf(os.Stderr, "%s: %d lines\n", path, count)
	return count, nil
}
