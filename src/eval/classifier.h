// The judge: a small classifier (models/classifier.h) trained on real labelled
// data that tells which label a generated example carries, and its file.
#pragma once

#include <string>

#include "models/classifier.h"

namespace cvae::eval {

using models::Classifier;
using models::ClassifierConfig;
using models::ClassifierImpl;
using models::predict;

struct ClassifierFile {
  ClassifierConfig config;
  std::string weights;
  double test_accuracy = -1;  // measured when it was trained (-1 = no test split)
  std::string data_source;
};

void save_classifier(const std::string& path, const ClassifierFile& f);
ClassifierFile load_classifier_file(const std::string& path);
// Loads for inference (eval mode); info receives the file's contents.
Classifier load_classifier(const std::string& path, ClassifierFile* info = nullptr);

}  // namespace cvae::eval
