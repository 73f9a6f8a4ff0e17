package onnx

import (
	"errors"
	"fmt"
	"math"
)

// Layer is a fully connected layer, y = x·W + Bias, for x of length In.
type Layer struct {
	In, Out int
	// Weights is W, In×Out in row-major order: Weights[i*Out+j] weighs
	// input i in output j.
	Weights []float32
	Bias    []float32
}

func (l Layer) check() error {
	if l.In <= 0 || l.Out <= 0 {
		return fmt.Errorf("shape %d×%d, want at least 1×1", l.In, l.Out)
	}
	if len(l.Weights) != l.In*l.Out || len(l.Bias) != l.Out {
		return fmt.Errorf("%d×%d needs %d weights and %d biases, have %d and %d",
			l.In, l.Out, l.In*l.Out, l.Out, len(l.Weights), len(l.Bias))
	}
	for i, w := range l.Weights {
		if math.IsNaN(float64(w)) || math.IsInf(float64(w), 0) {
			return fmt.Errorf("weight %d (input %d, output %d) is %v", i, i/l.Out, i%l.Out, w)
		}
	}
	for j, v := range l.Bias {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("bias %d is %v", j, v)
		}
	}
	return nil
}

// checkLayers reports layers that do not chain from width features.
func checkLayers(layers []Layer, width int) error {
	if len(layers) == 0 {
		return errors.New("no layers")
	}
	var errs []error
	in := width
	for i, l := range layers {
		if err := l.check(); err != nil {
			errs = append(errs, fmt.Errorf("layer %d: %w", i, err))
		} else if l.In != in {
			errs = append(errs, fmt.Errorf("layer %d: takes %d inputs, gets %d", i, l.In, in))
		}
		in = l.Out
	}
	return errors.Join(errs...)
}

// constants adds a layer's weights [In,Out] and bias [Out] as initializers.
func (l Layer) constants(b *builder, prefix string) (w, bias string) {
	w = b.constant(prefix+"_weights", FloatTensor("", l.Weights, int64(l.In), int64(l.Out)))
	bias = b.constant(prefix+"_bias", FloatTensor("", l.Bias, int64(l.Out)))
	return w, bias
}

// LinearRegression returns a model predicting OutputVariable, FLOAT
// [N, l.Out], as x·W + Bias of the encoded features x.
func LinearRegression(f Features, l Layer) (*Model, error) {
	b := newBuilder("linear_regression", OutputVariable)
	if _, err := linear(b, f, l, OutputVariable); err != nil {
		return nil, within("linear regression", err)
	}
	b.output(TensorInfo(OutputVariable, Float, Batch, Fixed(l.Out)))
	return b.model("linear regression"), nil
}

// LogisticRegression returns a classifier with outputs OutputLabel and
// OutputProbabilities. One output (l.Out 1) is binary logistic regression,
// P(class 1) = σ(x·W + Bias); more are multinomial, softmax(x·W + Bias).
// classes are the labels OutputLabel reports, nil for 0..C-1.
func LogisticRegression(f Features, l Layer, classes []int64) (*Model, error) {
	b := newBuilder("logistic_regression", OutputLabel, OutputProbabilities)
	logits, err := linear(b, f, l, "")
	if err == nil {
		classes, err = checkClasses(classes, classCount(l.Out))
	}
	if err != nil {
		return nil, within("logistic regression", err)
	}
	classify(b, logits, l.Out, classes)
	return b.model("logistic regression"), nil
}

// linear adds the features and x·W + Bias, named out when given.
func linear(b *builder, f Features, l Layer, out string) (string, error) {
	if err := errors.Join(f.check(), checkLayers([]Layer{l}, f.Width())); err != nil {
		return "", err
	}
	x, err := f.build(b)
	if err != nil {
		return "", err
	}
	w, bias := l.constants(b, "linear")
	product := b.op("MatMul", "", []string{x, w})
	return b.op("Add", out, []string{product, bias}), nil
}

// MLPRegressor returns a model predicting OutputVariable, FLOAT [N, Out of
// the last layer], from a multi-layer perceptron: every layer but the last
// is followed by ReLU.
func MLPRegressor(f Features, layers []Layer) (*Model, error) {
	b := newBuilder("mlp_regressor", OutputVariable)
	if _, err := mlp(b, f, layers, OutputVariable); err != nil {
		return nil, within("mlp regressor", err)
	}
	b.output(TensorInfo(OutputVariable, Float, Batch, Fixed(layers[len(layers)-1].Out)))
	return b.model("multi-layer perceptron regressor"), nil
}

// MLPClassifier returns a classifier with outputs OutputLabel and
// OutputProbabilities from a multi-layer perceptron whose last layer gives
// the logits: one for a binary classifier (sigmoid), more for softmax.
// classes are the labels OutputLabel reports, nil for 0..C-1.
func MLPClassifier(f Features, layers []Layer, classes []int64) (*Model, error) {
	b := newBuilder("mlp_classifier", OutputLabel, OutputProbabilities)
	logits, err := mlp(b, f, layers, "")
	if err == nil {
		classes, err = checkClasses(classes, classCount(layers[len(layers)-1].Out))
	}
	if err != nil {
		return nil, within("mlp classifier", err)
	}
	classify(b, logits, layers[len(layers)-1].Out, classes)
	return b.model("multi-layer perceptron classifier"), nil
}

// mlp adds the features and the layers, the last one's output named out
// when given.
func mlp(b *builder, f Features, layers []Layer, out string) (string, error) {
	if err := errors.Join(f.check(), checkLayers(layers, f.Width())); err != nil {
		return "", err
	}
	x, err := f.build(b)
	if err != nil {
		return "", err
	}
	for i, l := range layers {
		w, bias := l.constants(b, fmt.Sprintf("layer%d", i))
		if i == len(layers)-1 {
			x = b.op("Gemm", out, []string{x, w, bias})
		} else {
			x = b.op("Relu", "", []string{b.op("Gemm", "", []string{x, w, bias})})
		}
	}
	return x, nil
}
