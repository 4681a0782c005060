-- How many customers carry each name bigram, read from the duplicate index itself (an
-- fts5vocab table stores nothing): the duplicate check leaves out the grams a large part of
-- the company shares (a city, a trade: 北京, 科技), which would make it rank most customers.
CREATE VIRTUAL TABLE customer_gram_counts USING fts5vocab(customer_grams, 'row');
