// M/M/1 queue in ns-3 -- peer benchmark for sbmpsim (bench/peers).
//
// Model (identical in the sbmpsim and SimPy versions):
//   * one FIFO server, Poisson arrivals with rate lambda = 0.9,
//     exponential service times with rate mu = 1.0 (rho = 0.9);
//   * event-scheduling style: an Arrival event and a Departure event per
//     customer, scheduled with ns3::Simulator::Schedule on the default
//     scheduler; exactly N customers arrive and the run ends when all N
//     have departed (2 events per customer);
//   * Wq = mean time a customer waits in the queue before service starts;
//     theory: rho / (mu - lambda) = 9.0.
// One simulated time unit = one ns-3 second. Only Simulator::Run() is timed.
//
// Build: g++ -O2 -std=c++17 -I/usr/include mm1.cc -o mm1 -lns3-core
// Run:   ./mm1 --customers 1000000 [--seed 1]     (also --customers=N)
// Prints one JSON line on stdout.
#include "ns3/core-module.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>

using namespace ns3;

static const double kLambda = 0.9; // arrival rate
static const double kMu = 1.0;     // service rate

static uint64_t gN = 1000000;           // customers to simulate
static uint64_t gArrived = 0;
static uint64_t gDeparted = 0;
static bool gBusy = false;
static std::deque<double> gQueue;       // arrival times of waiting customers
static double gWaitSum = 0.0;
static Ptr<ExponentialRandomVariable> gInterArrival;
static Ptr<ExponentialRandomVariable> gService;

static void Departure();

static void StartService(double arrivedAt)
{
    gWaitSum += Simulator::Now().GetSeconds() - arrivedAt;
    gBusy = true;
    Simulator::Schedule(Seconds(gService->GetValue()), &Departure);
}

static void Arrival()
{
    ++gArrived;
    if (gArrived < gN)
        Simulator::Schedule(Seconds(gInterArrival->GetValue()), &Arrival);
    double now = Simulator::Now().GetSeconds();
    if (gBusy)
        gQueue.push_back(now);
    else
        StartService(now);
}

static void Departure()
{
    ++gDeparted;
    gBusy = false;
    if (!gQueue.empty()) {
        double arrivedAt = gQueue.front();
        gQueue.pop_front();
        StartService(arrivedAt);
    }
}

int main(int argc, char** argv)
{
    uint32_t seed = 1;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        std::string val;
        std::string key = a;
        size_t eq = a.find('=');
        if (eq != std::string::npos) {
            key = a.substr(0, eq);
            val = a.substr(eq + 1);
        } else if (i + 1 < argc) {
            val = argv[++i];
        }
        if (key == "--customers")
            gN = std::strtoull(val.c_str(), nullptr, 10);
        else if (key == "--seed")
            seed = std::strtoul(val.c_str(), nullptr, 10);
        else {
            std::fprintf(stderr, "usage: %s [--customers N] [--seed S]\n", argv[0]);
            return 2;
        }
    }
    if (gN == 0 || seed == 0) {
        std::fprintf(stderr, "customers and seed must be > 0\n");
        return 2;
    }

    RngSeedManager::SetSeed(seed);
    RngSeedManager::SetRun(1);
    gInterArrival = CreateObject<ExponentialRandomVariable>();
    gInterArrival->SetAttribute("Mean", DoubleValue(1.0 / kLambda));
    gService = CreateObject<ExponentialRandomVariable>();
    gService->SetAttribute("Mean", DoubleValue(1.0 / kMu));

    Simulator::Schedule(Seconds(gInterArrival->GetValue()), &Arrival);

    auto t0 = std::chrono::steady_clock::now();
    Simulator::Run(); // runs until the event list is empty
    auto t1 = std::chrono::steady_clock::now();
    Simulator::Destroy();

    double wall = std::chrono::duration<double>(t1 - t0).count();
    uint64_t n = gDeparted;
    uint64_t events = 2 * n;
    std::printf("{\"sim\": \"ns3\", \"customers\": %llu, \"events\": %llu, \"wall_s\": %.6f, "
                "\"customers_per_s\": %.1f, \"events_per_s\": %.1f, \"wq_mean\": %.6f}\n",
                (unsigned long long)n, (unsigned long long)events, wall, n / wall,
                events / wall, n ? gWaitSum / n : 0.0);
    return 0;
}
