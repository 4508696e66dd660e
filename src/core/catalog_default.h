/*
 * catalog_default.h - the catalog pgfleetd sells from when the config file
 * has no "catalog" key: what DescribeRegions, DescribeZones, DescribeClasses
 * and DescribeProductConfig answer, and what CreateInstances accepts.
 * config.c parses it into cfg->catalog; catalog.c validates it at start (a
 * bad catalog stops the daemon with a message naming the faulty entry).
 *
 * An operator's config file may replace it whole with its own "catalog"
 * object of the same shape. Entries use the API's own field names, so each
 * reads like the response it produces:
 *
 *   {
 *     "regions": [                      1..64 entries
 *       { "Region": "ap-guangzhou",     required, [a-z0-9-], unique
 *         "RegionName": "...",          required, 1..127 bytes
 *         "RegionId": 1,                required, integer >= 0, unique
 *         "RegionState": "AVAILABLE",   optional: AVAILABLE (default) | UNAVAILABLE
 *         "SupportInternational": 1 }   optional: 0 (default) | 1
 *     ],
 *     "zones": [                        1..256 entries
 *       { "Zone": "ap-guangzhou-3",     required, [a-z0-9-], unique
 *         "Region": "ap-guangzhou",     required, one of the regions
 *         "ZoneName": "...",            required, 1..127 bytes
 *         "ZoneId": 100003,             required, integer >= 0, unique
 *         "ZoneState": "AVAILABLE",     optional: AVAILABLE (default) | UNAVAILABLE
 *                                       | SELLOUT | SUPPORTMODIFYONLY
 *         "ZoneSupportIpv6": 0,         optional: 0 (default) | 1
 *         "StandbyZoneSet": [...] }     optional: zones of the same region a
 *                                       standby may use; default: all of them
 *     ],
 *     "specs": [                        1..128 entries, sold in every zone
 *       { "SpecCode": "cdb.pg.z1.2g",   required, [a-z0-9._-], unique
 *         "Cpu": 1,                     required, cores, 1..1024
 *         "Memory": 2048,               required, MB, 256..16777216
 *         "MinStorage": 10,             required, GB, >= 1
 *         "MaxStorage": 1000,           required, GB, MinStorage..1000000
 *         "Qps": 2100 }                 required, indicative QPS, >= 0
 *     ]
 *   }
 *
 * Database versions are not part of the catalog: they are the PostgreSQL
 * servers installed under the pg_bin_root setting.
 */
#ifndef PGFLEET_CORE_CATALOG_DEFAULT_H
#define PGFLEET_CORE_CATALOG_DEFAULT_H

#define CONFIG_DEFAULT_CATALOG \
	"{\n" \
	"  \"regions\": [\n" \
	"    {\"Region\": \"ap-guangzhou\", \"RegionName\": \"South China(Guangzhou)\",\n" \
	"     \"RegionId\": 1, \"RegionState\": \"AVAILABLE\", \"SupportInternational\": 1}\n" \
	"  ],\n" \
	"  \"zones\": [\n" \
	"    {\"Zone\": \"ap-guangzhou-3\", \"Region\": \"ap-guangzhou\", \"ZoneName\": \"Guangzhou Zone 3\",\n" \
	"     \"ZoneId\": 100003, \"ZoneState\": \"AVAILABLE\", \"ZoneSupportIpv6\": 0},\n" \
	"    {\"Zone\": \"ap-guangzhou-6\", \"Region\": \"ap-guangzhou\", \"ZoneName\": \"Guangzhou Zone 6\",\n" \
	"     \"ZoneId\": 100006, \"ZoneState\": \"AVAILABLE\", \"ZoneSupportIpv6\": 0}\n" \
	"  ],\n" \
	"  \"specs\": [\n" \
	"    {\"SpecCode\": \"cdb.pg.z1.2g\",   \"Cpu\": 1,  \"Memory\": 2048,  \"MinStorage\": 10, \"MaxStorage\": 1000, \"Qps\": 2100},\n" \
	"    {\"SpecCode\": \"cdb.pg.z1.4g\",   \"Cpu\": 2,  \"Memory\": 4096,  \"MinStorage\": 10, \"MaxStorage\": 1500, \"Qps\": 4100},\n" \
	"    {\"SpecCode\": \"cdb.pg.z1.8g\",   \"Cpu\": 2,  \"Memory\": 8192,  \"MinStorage\": 10, \"MaxStorage\": 2000, \"Qps\": 7600},\n" \
	"    {\"SpecCode\": \"cdb.pg.sh1.8g\",  \"Cpu\": 4,  \"Memory\": 8192,  \"MinStorage\": 10, \"MaxStorage\": 2000, \"Qps\": 10000},\n" \
	"    {\"SpecCode\": \"cdb.pg.z1.16g\",  \"Cpu\": 4,  \"Memory\": 16384, \"MinStorage\": 10, \"MaxStorage\": 3000, \"Qps\": 15000},\n" \
	"    {\"SpecCode\": \"cdb.pg.z1.32g\",  \"Cpu\": 8,  \"Memory\": 32768, \"MinStorage\": 10, \"MaxStorage\": 4000, \"Qps\": 30000},\n" \
	"    {\"SpecCode\": \"cdb.pg.sh1.32g\", \"Cpu\": 16, \"Memory\": 32768, \"MinStorage\": 10, \"MaxStorage\": 4000, \"Qps\": 44000},\n" \
	"    {\"SpecCode\": \"cdb.pg.z1.64g\",  \"Cpu\": 16, \"Memory\": 65536, \"MinStorage\": 10, \"MaxStorage\": 6000, \"Qps\": 60000}\n" \
	"  ]\n" \
	"}\n"

#endif
