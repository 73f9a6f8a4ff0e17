package serving

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
)

// OnlineFeatures reads the online store for the Feast-compatible route:
// out[i][j] is feature refs[j] ("view:field") of entity row i, whose join
// keys rows[i] holds (values as JSON decoded them: json.Number, string or
// bool). An error made with BadRequest is the caller's: an unknown view or
// field, a missing or mistyped key.
type OnlineFeatures func(ctx context.Context, refs []string, rows []map[string]any) ([][]OnlineValue, error)

// OnlineValue is one feature of one entity row, as Feast reports it.
type OnlineValue struct {
	// Status is Feast's: PRESENT, NOT_FOUND, NULL_VALUE or OUTSIDE_MAX_AGE.
	Status string
	// Value is an int64, float64, string or bool; nil unless PRESENT.
	Value any
	// EventTime is when the value was observed; zero when NOT_FOUND.
	EventTime time.Time
}

// SetOnlineFeatures gives the data plane's POST /get-online-features its
// reader. Until it is set the route answers 503.
func (s *Server) SetOnlineFeatures(read OnlineFeatures) { s.online.Store(&read) }

// feastRequest is Feast's GetOnlineFeaturesRequest as its feature servers
// read it: entities as columns, features or a feature service.
type feastRequest struct {
	Entities         json.RawMessage `json:"entities"`
	Features         []string        `json:"features"`
	FeatureService   *string         `json:"feature_service"`
	FullFeatureNames bool            `json:"full_feature_names"`
}

// entityColumn is one join key and its value per entity row.
type entityColumn struct {
	name   string
	values []json.RawMessage
}

// getOnlineFeatures answers Feast's POST /get-online-features, so Feast's
// HTTP clients read Sluice's online store unchanged. The response is
// Feast's: metadata.feature_names (the entity columns, then the
// features), and per name a column of values, statuses and event
// timestamps across the entity rows. A feature service is an endpoint's
// features.
func (s *Server) getOnlineFeatures(w http.ResponseWriter, r *http.Request) {
	read := s.online.Load()
	if read == nil {
		discard(r)
		writeFeastError(w, errorf(http.StatusServiceUnavailable, "this data plane has no online store to read"))
		return
	}
	body, err := s.readBody(w, r)
	if err != nil {
		writeFeastError(w, err)
		return
	}
	defer putBody(body)
	refs, cols, full, err := s.decodeFeast(body.Bytes())
	if err != nil {
		writeFeastError(w, err)
		return
	}
	rows := make([]map[string]any, len(cols[0].values))
	for i := range rows {
		rows[i] = make(map[string]any, len(cols))
		for _, c := range cols {
			rows[i][c.name] = entityValue(c.values[i])
		}
	}
	vals, err := (*read)(r.Context(), refs, rows)
	if err == nil && len(vals) != len(rows) {
		err = fmt.Errorf("online store returned %d rows for %d entities", len(vals), len(rows))
	}
	if err != nil {
		if !isInputError(err) {
			err = fmt.Errorf("read online features: %w", err)
		}
		writeFeastError(w, err)
		return
	}
	writeJSON(w, encodeFeast(refs, cols, vals, full))
}

// decodeFeast reads a request into the feature references and the entity
// columns, in the order the request names them.
func (s *Server) decodeFeast(body []byte) ([]string, []entityColumn, bool, error) {
	var req feastRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, nil, false, badInput("malformed JSON: %v", jsonErr(err, body))
	}
	refs := req.Features
	switch {
	case req.FeatureService != nil && len(refs) > 0:
		return nil, nil, false, badInput(`send "features" or "feature_service", not both`)
	case req.FeatureService != nil:
		var err error
		if refs, err = s.featureService(*req.FeatureService); err != nil {
			return nil, nil, false, err
		}
	case len(refs) == 0:
		return nil, nil, false, badInput(`request names no "features" (or "feature_service")`)
	}
	for i, ref := range refs {
		if view, field, ok := strings.Cut(ref, ":"); !ok || view == "" || field == "" {
			return nil, nil, false, badInput("features[%d] %q: want view:field", i, ref)
		}
	}
	cols, err := entityColumns(req.Entities)
	return refs, cols, req.FullFeatureNames, err
}

// featureService is the features of the endpoint named service: what
// Feast calls a feature service, the features one model is served with.
func (s *Server) featureService(name string) ([]string, error) {
	var with []string
	for _, n := range slices.Sorted(maps.Keys(*s.endpoints.Load())) {
		r := s.lookup(n).acquire()
		if r == nil {
			continue
		}
		var refs []string
		if j := r.primary.cfg.Join; j != nil {
			for _, f := range j.Features {
				refs = append(refs, f.Ref)
			}
		}
		r.release()
		if n == name && refs != nil {
			return refs, nil
		}
		if refs != nil {
			with = append(with, n)
		}
	}
	return nil, errorf(http.StatusNotFound, "feature service %q not found: a feature service is an endpoint that joins features (%s)", name, strings.Join(with, ", "))
}

// entityColumns reads "entities": {"join_key": [v, ...], ...}, keeping the
// keys' order; every column needs the same number of rows, at least one.
func entityColumns(raw json.RawMessage) ([]entityColumn, error) {
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, badInput(`request has no "entities": want {"join_key": [values...]}`)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, badInput(`"entities" must be an object of columns: {"join_key": [values...]}`)
	}
	var cols []entityColumn
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, badInput(`"entities": %v`, err)
		}
		name := t.(string)
		var values []json.RawMessage
		if err := dec.Decode(&values); err != nil {
			return nil, badInput(`"entities.%s" must be a list of key values: %v`, name, err)
		}
		for i, v := range values {
			if c := bytes.TrimSpace(v); len(c) == 0 || c[0] == '[' || c[0] == '{' || string(c) == "null" {
				return nil, badInput(`"entities.%s"[%d] is %s; a join key is a number or a string`, name, i, c)
			}
		}
		if len(cols) > 0 && len(values) != len(cols[0].values) {
			return nil, badInput(`"entities.%s" has %d values, "entities.%s" has %d: every column needs one per entity row`, name, len(values), cols[0].name, len(cols[0].values))
		}
		cols = append(cols, entityColumn{name, values})
	}
	if len(cols) == 0 || len(cols[0].values) == 0 {
		return nil, badInput(`"entities" names no entity rows`)
	}
	return cols, nil
}

// entityValue is a raw join key as the reader takes it.
func entityValue(raw json.RawMessage) any {
	var v any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	d.Decode(&v) // checked by entityColumns
	return v
}

// writeFeastError writes Feast's Go feature server's error shape,
// {"error": ..., "status_code": ...}.
func writeFeastError(w http.ResponseWriter, err error) {
	code, _ := outcomeOf(err)
	var he *httpError
	if !errors.As(err, &he) && !isInputError(err) {
		code = http.StatusInternalServerError
	}
	b := appendString([]byte(`{"error":`), err.Error())
	b = fmt.Appendf(b, `,"status_code":%d}`+"\n", code)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(b)
}
