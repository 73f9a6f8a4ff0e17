package training

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on what a run records. MLflow truncates an over-long param value
// by default; Sluice refuses it, so a recorded param is always the value
// used.
const (
	MaxKeyLength        = 250
	MaxParamValueLength = 6000
	MaxTagValueLength   = 8000
)

// checkKey reports a param, metric or tag name MLflow would not accept:
// empty, longer than MaxKeyLength, or holding other than letters, digits,
// and _ - . / space, or "..".
func checkKey(kind, key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%s name is empty", kind)
	case utf8.RuneCountInString(key) > MaxKeyLength:
		return fmt.Errorf("%s name %.40q... is %d characters, the limit is %d", kind, key, utf8.RuneCountInString(key), MaxKeyLength)
	case strings.Contains(key, ".."):
		return fmt.Errorf("%s name %q holds \"..\"", kind, key)
	}
	for _, r := range key {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("_-./ ", r)) {
			return fmt.Errorf("%s name %q holds %q; names take letters, digits, _ - . / and spaces", kind, key, r)
		}
	}
	return nil
}

// checkValue reports a value longer than limit characters.
func checkValue(kind, key, value string, limit int) error {
	if n := utf8.RuneCountInString(value); n > limit {
		return fmt.Errorf("%s %s: value is %d characters, the limit is %d (Sluice never truncates)", kind, key, n, limit)
	}
	return nil
}
