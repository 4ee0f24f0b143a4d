# Stan's ADVI (rstan::vb, Debian's r-cran-rstan) on one posteriordb posterior, for bench/vi/posteriordb-stan.ts.
#
# Usage: Rscript bench/peers/rstan_vb.R <model, pre-2.26 syntax> <data.json> <compiled .rds> <out.csv> <seeds, comma-separated> [--compile-only]
#
# The compiled model is cached in the .rds (one compile takes about a minute of CPU). For each
# algorithm (meanfield, fullrank) and seed, rstan::vb runs with Stan's defaults (iter 10000,
# tol_rel_obj 0.01, eta adapted, 1000 output draws); out.csv gets one row per quantity:
# algorithm, seed, name (Stan's flat name, e.g. beta[1]), mean, sd of the draws, seconds, error.
suppressMessages(library(rstan))
args <- commandArgs(trailingOnly = TRUE)
stan_file <- args[1]; data_file <- args[2]; rds <- args[3]; out <- args[4]
seeds <- as.integer(strsplit(args[5], ",")[[1]])
if (file.exists(rds)) {
  sm <- readRDS(rds)
} else {
  sm <- stan_model(file = stan_file)
  saveRDS(sm, rds)
}
if ("--compile-only" %in% args) quit(save = "no")
data <- jsonlite::fromJSON(data_file, simplifyVector = TRUE)
rows <- list()
for (alg in c("meanfield", "fullrank")) {
  for (seed in seeds) {
    t0 <- proc.time()[["elapsed"]]
    fit <- tryCatch(
      suppressWarnings(vb(sm, data = data, algorithm = alg, seed = seed, refresh = 0)),
      error = function(e) conditionMessage(e)
    )
    secs <- proc.time()[["elapsed"]] - t0
    if (is.character(fit) || fit@mode != 0) {
      msg <- if (is.character(fit)) fit else "vb returned no draws"
      rows[[length(rows) + 1]] <- data.frame(algorithm = alg, seed = seed, name = "", mean = NA, sd = NA, seconds = secs,
                                             error = gsub("[\r\n,]", " ", msg))
      next
    }
    d <- as.matrix(fit)
    rows[[length(rows) + 1]] <- data.frame(algorithm = alg, seed = seed, name = colnames(d), mean = colMeans(d),
                                           sd = apply(d, 2, sd), seconds = secs, error = "")
  }
}
write.csv(do.call(rbind, rows), out, row.names = FALSE)
