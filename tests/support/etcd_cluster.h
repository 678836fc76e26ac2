// EtcdCluster for tests: real etcd members (Debian's etcd-server, /usr/bin/etcd) started as child
// processes, on loopback with free ports unless the options say otherwise. The class is
// dove-lab's (src/lab/etcd_cluster.h: its contract; dove-lab runs one for its controller
// replicas), so the tests and the lab start, kill and restart etcd the same way. Link the
// target dove_lab_etcd.
//
//   auto cluster = EtcdCluster::Start(3);
//   ASSERT_TRUE(cluster) << cluster.error();
//   options.endpoints = (*cluster)->Endpoints();   // "http://127.0.0.1:P1,http://..."
#pragma once

#include "lab/etcd_cluster.h"

namespace dove::test_support {

using lab::EtcdCluster;
using lab::kEtcdBinary;

}  // namespace dove::test_support
