# Writes Ionosphere and Sonar (R package mlbench, Debian's r-cran-mlbench) as CSV files with a
# header, the numeric features first and the class label last as 0/1 (Ionosphere: good = 1;
# Sonar: M = 1). Usage: Rscript bench/ep/export-mlbench.R OUTDIR
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args) > 0) args[1] else "test/fixtures"
suppressMessages(library(mlbench))
write_set <- function(df, label, positive, file) {
  y <- as.integer(df[[label]] == positive)
  x <- df[, names(df) != label, drop = FALSE]
  x[] <- lapply(x, function(col) as.numeric(as.character(col)))
  res <- cbind(x, y = y)
  write.csv(res, file.path(out, file), row.names = FALSE, quote = FALSE)
  cat(file, nrow(res), "rows,", ncol(x), "features,", sum(y), "positive\n")
}
data(Ionosphere)
write_set(Ionosphere, "Class", "good", "ep-ionosphere.csv")
data(Sonar)
write_set(Sonar, "Class", "M", "ep-sonar.csv")
