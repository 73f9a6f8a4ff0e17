// Package training turns datasets into trained, evaluated and recorded
// models.
//
// A Frame is a dataset: named number and string columns, a label and
// optionally every row's event time. Split divides it into training and
// holdout rows; Fingerprint keys a run by the data it saw.
//
// Train fits one of the built-in trainers (logistic_regression,
// linear_regression, mlp, random_forest), pure Go and deterministic for a
// seed. It returns the model as plain values (weights, layers, trees and
// the Encoding that standardises numeric columns and one-hot encodes string
// columns) for the engine to write as ONNX. RunCommand runs any other
// program under the command trainer contract (see command.go).
//
// Evaluation scores a Predictor (an ONNX Runtime Session over the model's
// bytes, the runtime that will serve it, or a Go model) on the holdout.
//
// Tracker records runs with their params, metrics, tags, artifacts and logs
// in the state file, and searches them with MLflow's filter grammar
// extended by "or" and parentheses.
package training
