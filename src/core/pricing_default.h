/*
 * pricing_default.h - the price book pgfleetd charges from when the config
 * file has no "pricing" key: what InquiryPriceCreateDBInstances,
 * InquiryPriceUpgradeDBInstance and InquiryPriceRenewDBInstance answer and
 * what every order and hourly bill records. config.c parses it into
 * cfg->pricing; task/pricing.c validates it at start (a bad book stops the
 * daemon with a message naming the faulty entry). An operator's config file
 * may replace it whole with its own "pricing" object of the same shape.
 *
 * Every amount is in cents (1/100) of Currency, as the API answers prices;
 * amounts may have up to two decimals (0.12 = twelve hundredths of a cent),
 * so that small hourly rates per GB can be written exactly:
 *
 *   {
 *     "Currency": "CNY",              required, 3 uppercase letters
 *     "specs": [                      0..128 entries
 *       { "SpecCode": "cdb.pg.z1.2g", required, unique
 *         "Monthly": 11000,           required, cents per month (30 days)
 *         "Hourly": 19 }              required, cents per hour (pay-as-you-go)
 *     ],
 *     "default": {                    required: prices a spec the list lacks
 *       "MonthlyPerCore": 4000,  "MonthlyPerGbMemory": 3500,
 *       "HourlyPerCore": 6.7,    "HourlyPerGbMemory": 5.8 },
 *     "storage": {                    required, per GB of Storage
 *       "MonthlyPerGb": 80, "HourlyPerGb": 0.12 },
 *     "discounts": [                  optional, 0..16 entries, unique Period:
 *       { "Period": 12, "Percent": 83 }   prepaid purchases and renewals of
 *     ]                                   at least Period months pay Percent
 *   }                                     (1..100) of the list price
 *
 * Every amount is 0..1e9 cents. The list price is OriginalPrice, the price
 * after the period discount is Price.
 */
#ifndef PGFLEET_CORE_PRICING_DEFAULT_H
#define PGFLEET_CORE_PRICING_DEFAULT_H

#define CONFIG_DEFAULT_PRICING \
	"{\n" \
	"  \"Currency\": \"CNY\",\n" \
	"  \"specs\": [\n" \
	"    {\"SpecCode\": \"cdb.pg.z1.2g\",   \"Monthly\": 11000,  \"Hourly\": 19},\n" \
	"    {\"SpecCode\": \"cdb.pg.z1.4g\",   \"Monthly\": 22000,  \"Hourly\": 37},\n" \
	"    {\"SpecCode\": \"cdb.pg.z1.8g\",   \"Monthly\": 40000,  \"Hourly\": 67},\n" \
	"    {\"SpecCode\": \"cdb.pg.sh1.8g\",  \"Monthly\": 48000,  \"Hourly\": 80},\n" \
	"    {\"SpecCode\": \"cdb.pg.z1.16g\",  \"Monthly\": 80000,  \"Hourly\": 133},\n" \
	"    {\"SpecCode\": \"cdb.pg.z1.32g\",  \"Monthly\": 160000, \"Hourly\": 267},\n" \
	"    {\"SpecCode\": \"cdb.pg.sh1.32g\", \"Monthly\": 210000, \"Hourly\": 350},\n" \
	"    {\"SpecCode\": \"cdb.pg.z1.64g\",  \"Monthly\": 320000, \"Hourly\": 533}\n" \
	"  ],\n" \
	"  \"default\": {\"MonthlyPerCore\": 4000, \"MonthlyPerGbMemory\": 3500,\n" \
	"              \"HourlyPerCore\": 6.7, \"HourlyPerGbMemory\": 5.8},\n" \
	"  \"storage\": {\"MonthlyPerGb\": 80, \"HourlyPerGb\": 0.12},\n" \
	"  \"discounts\": [\n" \
	"    {\"Period\": 12, \"Percent\": 83},\n" \
	"    {\"Period\": 24, \"Percent\": 70},\n" \
	"    {\"Period\": 36, \"Percent\": 50}\n" \
	"  ]\n" \
	"}\n"

#endif
