#pragma once
// The one way into Asio: Asio 1.18 (Boost 1.74) uses std::exchange without including <utility>,
// which g++ 12 no longer pulls in by accident.
#include <utility>

#include <boost/asio.hpp>
