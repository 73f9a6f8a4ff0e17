package schema

import (
	"sort"
	"time"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/errors"
)

// decode turns the unified value into a Spec. Resources that fail to
// decode are kept in the Spec, as far as they decoded, and listed in broken
// so that checks skip them rather than report their missing parts.
func decode(v cue.Value) (*Spec, map[Addr]bool, errors.Error) {
	broken := map[Addr]bool{}
	s := &Spec{
		Sources:       map[string]*Source{},
		Entities:      map[string]*Entity{},
		Features:      map[string]*FeatureView{},
		Experiments:   map[string]*Experiment{},
		Models:        map[string]*Model{},
		Endpoints:     map[string]*Endpoint{},
		Drift:         map[string]*Drift{},
		Notifications: map[string]*Notification{},
	}
	var errs errors.Error
	each := func(kind Kind, fn func(m Meta, rv cue.Value) error) {
		it, err := v.LookupPath(cue.MakePath(cue.Str(string(kind)))).Fields()
		if err != nil {
			return // kind absent
		}
		for it.Next() {
			rv := it.Value()
			m, err := meta(kind, it.Selector().Unquoted(), rv)
			if err == nil {
				err = fn(m, rv)
			}
			if err != nil {
				broken[m.Addr] = true
				errs = errors.Append(errs, errors.Promote(err, m.Addr.String()))
			}
		}
	}
	each(KindSource, func(m Meta, rv cue.Value) error {
		x := &Source{Meta: m}
		s.Sources[m.Addr.Name] = x
		return rv.Decode(x)
	})
	each(KindEntity, func(m Meta, rv cue.Value) error {
		x := &Entity{Meta: m}
		s.Entities[m.Addr.Name] = x
		return rv.Decode(x)
	})
	each(KindFeature, func(m Meta, rv cue.Value) error {
		x := &FeatureView{Meta: m}
		s.Features[m.Addr.Name] = x
		return decodeView(x, rv)
	})
	each(KindExperiment, func(m Meta, rv cue.Value) error {
		x := &Experiment{Meta: m}
		s.Experiments[m.Addr.Name] = x
		if err := rv.Decode(x); err != nil {
			return err
		}
		var err error
		x.Trainer.Timeout, err = duration(rv, "trainer.timeout")
		return err
	})
	each(KindModel, func(m Meta, rv cue.Value) error {
		x := &Model{Meta: m}
		s.Models[m.Addr.Name] = x
		return rv.Decode(x)
	})
	each(KindEndpoint, func(m Meta, rv cue.Value) error {
		x := &Endpoint{Meta: m}
		s.Endpoints[m.Addr.Name] = x
		return decodeEndpoint(x, rv)
	})
	each(KindDrift, func(m Meta, rv cue.Value) error {
		x := &Drift{Meta: m}
		s.Drift[m.Addr.Name] = x
		return decodeDrift(x, rv)
	})
	if it, err := v.LookupPath(cue.ParsePath("notifications")).Fields(); err == nil {
		for it.Next() {
			n := &Notification{Name: it.Selector().Unquoted()}
			if err := it.Value().Decode(n); err != nil {
				errs = errors.Append(errs, errors.Promote(err, "notifications"))
			}
			s.Notifications[n.Name] = n
		}
	}
	return s, broken, errs
}

func meta(kind Kind, name string, rv cue.Value) (Meta, error) {
	m := Meta{Addr: Addr{Kind: kind, Name: name}, Pos: userPos(rv)}
	m.Fields, m.Classes = fieldInfo(rv)
	var err error
	m.Spec, m.Hash, err = canonical(rv)
	return m, err
}

func decodeView(x *FeatureView, rv cue.Value) error {
	if err := rv.Decode(x); err != nil {
		return err
	}
	var fields map[string]FeatureField
	if err := rv.LookupPath(cue.ParsePath("fields")).Decode(&fields); err != nil {
		return err
	}
	for name, f := range fields {
		f.Name = name
		x.Fields = append(x.Fields, f)
	}
	sort.Slice(x.Fields, func(i, j int) bool { return x.Fields[i].Name < x.Fields[j].Name })
	var err error
	if x.TTL, err = duration(rv, "ttl"); err != nil {
		return err
	}
	x.Every, err = duration(rv, "every")
	return err
}

func decodeEndpoint(x *Endpoint, rv cue.Value) error {
	if err := rv.Decode(x); err != nil {
		return err
	}
	db := &x.DynamicBatching
	var err error
	for _, d := range []struct {
		dst  *time.Duration
		path string
	}{
		{&db.MaxQueueDelay, "dynamic_batching.max_queue_delay"},
		{&db.Timeout, "dynamic_batching.timeout"},
		{&x.Capture.Retention, "capture.retention"},
	} {
		if *d.dst, err = duration(rv, d.path); err != nil {
			return err
		}
	}
	return nil
}

func decodeDrift(x *Drift, rv cue.Value) error {
	if err := rv.Decode(x); err != nil {
		return err
	}
	x.Numerical, _ = rv.LookupPath(cue.ParsePath("method.numerical")).String()
	x.Categorical, _ = rv.LookupPath(cue.ParsePath("method.categorical")).String()
	t := rv.LookupPath(cue.ParsePath("threshold"))
	if t.Exists() {
		if t.IncompleteKind() == cue.StructKind {
			x.Threshold.Kind, _ = t.LookupPath(cue.ParsePath("kind")).String()
			x.Threshold.K, _ = t.LookupPath(cue.ParsePath("k")).Float64()
		} else if f, err := t.Float64(); err == nil {
			x.Threshold.Value = f
		}
	}
	var err error
	if x.Window, err = duration(rv, "window"); err != nil {
		return err
	}
	x.Every, err = duration(rv, "every")
	return err
}

// duration reads the Go duration string at path; absent means zero.
func duration(rv cue.Value, path string) (time.Duration, error) {
	f := rv.LookupPath(cue.ParsePath(path))
	if !f.Exists() {
		return 0, nil
	}
	s, err := f.String()
	if err != nil {
		return 0, err
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, errors.Newf(f.Pos(), "%s: %v", path, err)
	}
	return d, nil
}
