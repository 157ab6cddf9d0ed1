//! Integration tests, one binary so the library is linked once: the real `itvalue` binary on
//! temporary copies of the sample, and the ingest stage on fixture files named after the case
//! they cover, generated into a temporary folder per test.

mod common;
mod database_tls;
mod databases;
mod fixtures;
mod ingest;
mod models;
mod operations;
mod pack;
mod run;
mod scenarios;
mod trustworthy;
mod valuation;
mod value_stream;
