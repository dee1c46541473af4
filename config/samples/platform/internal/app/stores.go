package app

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
)

// Connect builds the Postgres pool and the Redis client from DATABASE_URL
// and REDIS_URL. Neither connects yet: a program starts before or without
// its dependencies and says so on /healthz instead of exiting.
func Connect(ctx context.Context, cfg Config) (*pgxpool.Pool, *redis.Client, error) {
	if err := cfg.Require("DATABASE_URL", "REDIS_URL"); err != nil {
		return nil, nil, err
	}
	db, err := pgxpool.New(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	ropt, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	return db, redis.NewClient(ropt), nil
}
