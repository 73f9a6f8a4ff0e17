package registry

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
)

// Metrics are a version's evaluation metrics by name (f1, roc_auc, rmse...).
// NaN and the infinities survive a round trip through the state file, where
// they are written as the strings "NaN", "+Inf" and "-Inf".
type Metrics map[string]float64

// MarshalJSON writes finite values as numbers and the others as strings.
func (m Metrics) MarshalJSON() ([]byte, error) {
	out := make(map[string]any, len(m))
	for k, v := range m {
		switch {
		case math.IsNaN(v):
			out[k] = "NaN"
		case math.IsInf(v, 1):
			out[k] = "+Inf"
		case math.IsInf(v, -1):
			out[k] = "-Inf"
		default:
			out[k] = v
		}
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (m *Metrics) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	out := make(Metrics, len(raw))
	for k, r := range raw {
		var v float64
		if err := json.Unmarshal(r, &v); err == nil {
			out[k] = v
			continue
		}
		var s string
		if err := json.Unmarshal(r, &s); err != nil {
			return fmt.Errorf("metric %s: %s is not a number", k, r)
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || !(math.IsNaN(f) || math.IsInf(f, 0)) {
			return fmt.Errorf("metric %s: %q is not a number", k, s)
		}
		out[k] = f
	}
	*m = out
	return nil
}

// Names returns the metric names in order.
func (m Metrics) Names() []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// formatValue prints a metric compactly: six significant digits, which
// tells 0.9123 from 0.9125 without printing float noise.
func formatValue(v float64) string {
	return strconv.FormatFloat(v, 'g', 6, 64)
}
