package training

import (
	"fmt"
	"math"
	"sort"
)

// ClassifierMetrics computes, as scikit-learn does, accuracy, precision,
// recall, f1, roc_auc and log_loss of a classifier's predictions against
// the true labels y. With two classes, precision, recall and f1 are of
// the second (greater) class and roc_auc ranks its probability; with more
// they are macro averages over the classes (roc_auc one-vs-rest). A
// precision or recall with nothing to divide by is 0. roc_auc is left out
// when y holds a single class.
func ClassifierMetrics(y []int64, p *Predictions) (map[string]float64, error) {
	k := len(p.Classes)
	if k < 2 || len(y) != len(p.Labels) || len(p.Probabilities) != len(y)*k {
		return nil, fmt.Errorf("metrics: %d labels against %d predictions of %d classes", len(y), len(p.Labels), k)
	}
	if len(y) == 0 {
		return nil, fmt.Errorf("metrics: no rows to score")
	}
	index := make(map[int64]int, k)
	for c, label := range p.Classes {
		index[label] = c
	}
	truth := make([]int, len(y))
	for i, label := range y {
		c, ok := index[label]
		if !ok {
			return nil, fmt.Errorf("metrics: row %d: true class %d is not among the model's classes %v", i+1, label, p.Classes)
		}
		truth[i] = c
	}
	predicted := make([]int, len(y))
	for i, label := range p.Labels {
		c, ok := index[label]
		if !ok {
			return nil, fmt.Errorf("metrics: row %d: predicted class %d is not among the model's classes %v", i+1, label, p.Classes)
		}
		predicted[i] = c
	}
	m := map[string]float64{"log_loss": logLoss(truth, p.Probabilities, k)}
	cm := confusion(truth, predicted, k)
	m["accuracy"] = cm.accuracy()
	if k == 2 {
		m["precision"], m["recall"], m["f1"] = cm.scores(1)
	} else {
		for c := range k {
			pr, re, f1 := cm.scores(c)
			m["precision"] += pr / float64(k)
			m["recall"] += re / float64(k)
			m["f1"] += f1 / float64(k)
		}
	}
	if auc, ok := rocAUC(truth, p.Probabilities, k); ok {
		m["roc_auc"] = auc
	}
	return m, nil
}

// confusionMatrix counts rows by true class (row) and predicted (column).
type confusionMatrix [][]float64

func confusion(truth, predicted []int, k int) confusionMatrix {
	cm := make(confusionMatrix, k)
	for c := range cm {
		cm[c] = make([]float64, k)
	}
	for i := range truth {
		cm[truth[i]][predicted[i]]++
	}
	return cm
}

func (cm confusionMatrix) accuracy() float64 {
	var right, all float64
	for t, row := range cm {
		for p, n := range row {
			all += n
			if t == p {
				right += n
			}
		}
	}
	return right / all
}

// scores returns precision, recall and f1 of class c.
func (cm confusionMatrix) scores(c int) (precision, recall, f1 float64) {
	var tp, predicted, actual float64
	tp = cm[c][c]
	for o := range cm {
		predicted += cm[o][c]
		actual += cm[c][o]
	}
	if predicted > 0 {
		precision = tp / predicted
	}
	if actual > 0 {
		recall = tp / actual
	}
	if predicted+actual > 0 {
		f1 = 2 * tp / (predicted + actual)
	}
	return precision, recall, f1
}

// logLoss is the mean negative log probability of the true class, each
// row's probabilities renormalised and clipped to [ε, 1-ε] (ε the float64
// machine epsilon), as scikit-learn 1.2 computes it.
func logLoss(truth []int, probs []float64, k int) float64 {
	const eps = 2.220446049250313e-16
	var s float64
	row := make([]float64, k)
	for i, c := range truth {
		var sum float64
		for j := range k {
			row[j] = math.Min(math.Max(probs[i*k+j], eps), 1-eps)
			sum += row[j]
		}
		s -= math.Log(row[c] / sum)
	}
	return s / float64(len(truth))
}

// rocAUC is the area under the ROC curve of the second class's
// probability with two classes, else the mean over classes of each
// class's one-against-the-rest AUC. ok is false when a class needed is
// absent from truth.
func rocAUC(truth []int, probs []float64, k int) (auc float64, ok bool) {
	if k == 2 {
		return binaryAUC(truth, probs, 2, 1)
	}
	for c := range k {
		a, ok := binaryAUC(truth, probs, k, c)
		if !ok {
			return 0, false
		}
		auc += a / float64(k)
	}
	return auc, true
}

// binaryAUC is the Mann-Whitney U statistic of class c's scores, tied
// scores counting half.
func binaryAUC(truth []int, probs []float64, k, c int) (float64, bool) {
	n := len(truth)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return probs[order[a]*k+c] < probs[order[b]*k+c] })
	var pos, rankSum float64
	for lo := 0; lo < n; {
		hi := lo
		for hi < n && probs[order[hi]*k+c] == probs[order[lo]*k+c] {
			hi++
		}
		mid := float64(lo+hi+1) / 2 // the mean of ranks lo+1..hi
		for _, i := range order[lo:hi] {
			if truth[i] == c {
				pos++
				rankSum += mid
			}
		}
		lo = hi
	}
	neg := float64(n) - pos
	if pos == 0 || neg == 0 {
		return 0, false
	}
	return (rankSum - pos*(pos+1)/2) / (pos * neg), true
}

// RegressorMetrics computes rmse, mae and r2 of predicted values against
// the truth y, as scikit-learn does (r2 of a constant truth is 1 when
// predicted exactly, else 0).
func RegressorMetrics(y, predicted []float64) (map[string]float64, error) {
	if len(y) != len(predicted) {
		return nil, fmt.Errorf("metrics: %d values against %d predictions", len(y), len(predicted))
	}
	if len(y) == 0 {
		return nil, fmt.Errorf("metrics: no rows to score")
	}
	var se, ae float64
	for i := range y {
		d := y[i] - predicted[i]
		se += d * d
		ae += math.Abs(d)
	}
	n := float64(len(y))
	return map[string]float64{"rmse": math.Sqrt(se / n), "mae": ae / n, "r2": r2(y, predicted)}, nil
}

// r2 is the coefficient of determination.
func r2(y, predicted []float64) float64 {
	mean, _ := meanStd(y)
	var ssRes, ssTot float64
	for i := range y {
		ssRes += (y[i] - predicted[i]) * (y[i] - predicted[i])
		ssTot += (y[i] - mean) * (y[i] - mean)
	}
	if ssTot == 0 {
		if ssRes == 0 {
			return 1
		}
		return 0
	}
	return 1 - ssRes/ssTot
}
