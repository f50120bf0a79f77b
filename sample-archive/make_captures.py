"""Generate the sample archive's captures: invented local news, edited over five days.

    python make_captures.py [--out DIR]      # default: captures/ next to this file

Three invented papers publish 25 invented stories between Monday 3 and Friday 7 March 2025.
Each story is data: its first text, then dated edits (a headline, a byline, a substitution,
a paragraph inserted, dropped, moved or appended, a removal, a return, or a re-render that
changes only the page around the article). Each paper has its own page template, and one
paper is redesigned mid-week. At every capture time the generator writes what changed:

    captures/<YYYY-MM-DDTHH:MMZ>/<host>/<path>        a page, feed or sitemap, new or changed
    captures/<YYYY-MM-DDTHH:MMZ>/<host>/<path>.gone   from then on, <path> answers 404

A URL path ending in "/" is stored as ".../index.html". Files accumulate: a file is served
from its capture time until a later capture replaces it or marks it gone.

The output is a pure function of this file: no clock, no randomness. CASES names, for each
kind of change the demo must handle, the article and the two capture times to compare.
Import this file by path (it is not a package); register the module in sys.modules first,
as dataclasses need it:

    spec = importlib.util.spec_from_file_location("make_captures", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_captures"] = module
    spec.loader.exec_module(module)
"""

from __future__ import annotations

import argparse
import html
import itertools
import json
import re
import shutil
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

HERE = Path(__file__).resolve().parent
TIME_FORMAT = "%Y-%m-%dT%H:%MZ"
GONE_SUFFIX = ".gone"


def t(day: int, hour: int) -> datetime:
    """A capture time in March 2025, UTC. Captures are made at 06, 09, 12, 15, 18 and 21."""
    return datetime(2025, 3, day, hour, tzinfo=UTC)


def stamp(when: datetime) -> str:
    """A capture time as its directory name: 2025-03-03T06:00Z."""
    return when.strftime(TIME_FORMAT)


def para(text: str) -> str:
    """Source text as one paragraph: hard wrapping and indentation collapse to single spaces."""
    return " ".join(text.split())


# --- stories ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Edit:
    """What changes in a story at one capture time. Operations apply in field order.

    An Edit with no operation re-renders the page (share counts, related stories and the
    "Updated" stamp change) while the article stays word for word the same."""

    at: datetime
    headline: str | None = None
    byline: tuple[str, ...] | None = None
    drop: tuple[str, ...] = ()  # anchors: a substring found in exactly one paragraph
    sub: tuple[tuple[str, str], ...] = ()  # (old, new): old occurs exactly once in the body
    move: tuple[tuple[str, str], ...] = ()  # (anchor, anchor of the paragraph it will follow)
    insert: tuple[tuple[str, str], ...] = ()  # (anchor of the paragraph to follow or "", text)
    append: tuple[str, ...] = ()
    gone: bool = False  # the page answers 404 from now on (and leaves the feed)
    back: bool = False  # the page returns
    restamp: bool = True  # whether the page's "Updated" time moves (A/B headlines do not)


@dataclass(frozen=True)
class Story:
    key: str
    outlet: str
    path: str
    section: str
    first: datetime  # the capture time at which the feed first lists it
    byline: tuple[str, ...]
    role: str
    headline: str
    summary: str
    text: str  # paragraphs separated by blank lines; "## " starts a crosshead
    edits: tuple[Edit, ...] = ()

    @property
    def paragraphs(self) -> list[str]:
        return [para(block) for block in re.split(r"\n\s*\n", self.text) if block.strip()]

    @property
    def published(self) -> datetime:
        """Published some minutes before the capture that first sees it."""
        return self.first - timedelta(minutes=12 + zlib.crc32(self.key.encode()) % 95)


STORIES: list[Story] = [
    # --- The Northgate Herald: RSS 2.0, redesigned on Thursday morning ----------------------
    Story(
        key="bridge",
        outlet="herald",
        path="/news/2025/03/ferry-street-bridge-closure.html",
        section="Transport",
        first=t(3, 6),
        byline=("Helen Crane",),
        role="Local Democracy Reporter",
        headline="Ferry Street bridge to close for nine months of repairs",
        summary="Councillors approve the closure of the town's oldest road bridge after "
        "engineers found corrosion in its supports.",
        text="""
            Northgate's oldest road bridge will close to traffic for nine months from April
            after councillors approved a repair scheme that engineers say is a decade overdue.

            The Ferry Street bridge, which carries about 14,000 vehicles a day across the River
            Lenn, will remain open to pedestrians for most of the works, Northgate Borough
            Council said.

            A group of councillors had asked for the decision to be delayed until a traffic
            study was finished, but the cabinet approved the scheme by six votes to two on
            Friday evening.

            Inspectors found corrosion in two of the bridge's four main supports during a
            routine survey last autumn, and a weight limit of 7.5 tonnes has been in place
            since November.

            The cabinet member for highways, Colin Pryce, said the council had no responsible
            alternative. "If we wait another winter, we risk having to shut the bridge at a
            day's notice," he said.

            Traders on Bridge Street said they feared a repeat of 2019, when a three-week
            closure for resurfacing cut footfall in the town centre by a fifth.

            "Nine months is a long time for a small shop," said Anita Rowe, who runs a bakery
            near the northern end of the bridge. "People will simply drive to the retail park
            instead."

            The council said it would publish a diversion plan before the end of March and
            would ask bus operators to keep journey times on the 3 and 3A routes as close to
            normal as possible.

            The repairs are expected to cost £4.6m, most of which will come from a maintenance
            grant awarded to the council last year.
        """,
        edits=(
            Edit(
                t(3, 12),
                sub=(("A group of councillors had", "A group of around 12 councillors had"),),
            ),
            Edit(
                t(3, 18),
                insert=(
                    (
                        "Inspectors found corrosion",
                        """Drivers will be diverted along the ring road and over Castle
                        Bridge, adding up to 20 minutes to some journeys at peak times,
                        according to the council's own estimate.""",
                    ),
                ),
            ),
            Edit(
                t(5, 9),
                sub=(
                    (
                        "would publish a diversion plan before the end of March",
                        "would publish a full diversion plan on 17 March",
                    ),
                ),
            ),
        ),
    ),
    Story(
        key="flood-report",
        outlet="herald",
        path="/news/2025/03/council-leader-flood-report.html",
        section="Politics",
        first=t(3, 9),
        byline=("Marcus Hale",),
        role="Political Reporter",
        headline="Council leader accused of burying flood report",
        summary="Opposition councillors say an independent review of January's flooding is "
        "being held back until after the elections.",
        text="""
            The leader of Northgate Borough Council has been accused by opposition members of
            holding back a report into last winter's flooding in the Lower Town until after
            May's local elections.

            The independent review, commissioned after more than 200 homes were flooded in
            January, was due to be published in February but has not yet been made public.

            Opposition group leader Fiona Garside said residents had a right to see it.
            "People whose homes were under a metre of water deserve answers, not a timetable
            that happens to suit the ruling group," she said.

            The council leader, Cllr Raymond Stott, said the report was still being checked for
            accuracy and that the timing of its publication had nothing to do with the
            election.

            ## What the draft says

            A copy of the draft seen by the Herald says that a pumping station on Mill Lane
            failed twice during the storm and that warnings from residents about a blocked
            culvert were not acted on.

            The Lenn Valley Drainage Board, which maintains the culvert, said it had cleared it
            in December and was cooperating with the review.

            Residents of Tanner's Row, one of the worst-hit streets, have held three public
            meetings since the flood. Several families are still living in temporary
            accommodation.

            The council's audit committee is due to discuss the review's timetable on 12 March.
        """,
        edits=(
            Edit(t(3, 18), headline="Council leader questioned over delay to flood report"),
            Edit(
                t(4, 12),
                insert=(
                    (
                        "The council leader, Cllr Raymond Stott",
                        """In a statement on Tuesday, the council said the final report would
                        be published "no later than 31 March" and that councillors of all
                        parties would be briefed on its findings beforehand.""",
                    ),
                ),
            ),
        ),
    ),
    Story(
        key="school-merger",
        outlet="herald",
        path="/news/2025/03/village-schools-merger-consultation.html",
        section="Education",
        first=t(3, 12),
        byline=("Lucy Adebayo",),
        role="Education Correspondent",
        headline="Parents divided over plan to merge village primary schools",
        summary="A trust wants to close Ashby Cross Primary and move its pupils to Holme Green.",
        text="""
            Plans to merge two village primary schools on the edge of Northgate have divided
            parents, with some warning that the youngest children would face a four-mile
            journey each day.

            Under proposals from the Lennside Learning Trust, pupils at Ashby Cross Primary
            would move to Holme Green Primary from September 2026, and the Ashby Cross building
            would close.

            The trust says falling birth rates mean Ashby Cross, which has 61 pupils and room
            for 140, is no longer viable on its own. Holme Green has 188 pupils.

            A consultation on the plan opened on Monday and runs for six weeks. The trust will
            hold drop-in sessions for families at both schools.

            Its chief executive, Dr Alan Whitlock, said no decision had been made. "We want to
            hear from every family before we go any further," he said.

            Some parents at Holme Green welcomed the proposal, saying a larger school would be
            able to offer more clubs and specialist teaching.

            The council, which is responsible for school transport, said eligible pupils would
            be offered a free place on a school bus.

            A petition opposing the closure of Ashby Cross had gathered more than 900
            signatures by Monday evening.
        """,
        edits=(
            Edit(
                t(3, 21),
                insert=(
                    (
                        "The trust says falling birth rates",
                        """"Ashby Cross is the heart of this village," said Kerry Lund, whose
                        two children attend the school. "Once it goes, it will not come
                        back.\"""",
                    ),
                ),
            ),
            Edit(t(4, 15), drop=("Ashby Cross is the heart of this village",)),
            Edit(
                t(5, 12),
                sub=(
                    (
                        "more than 900 signatures by Monday evening",
                        "more than 1,300 signatures by Wednesday morning",
                    ),
                ),
            ),
        ),
    ),
    Story(
        key="hospital-parking",
        outlet="herald",
        path="/news/2025/03/hospital-car-park-charges.html",
        section="Health",
        first=t(4, 6),
        byline=("Daniel Shore",),
        role="Health and Transport Reporter",
        headline="Hospital car park charges to rise by a third in April",
        summary="Visitors to Northgate General will pay up to £12 a day to park.",
        text="""
            Patients and visitors at Northgate General Hospital will pay up to a third more to
            park from 1 April, the hospital trust has confirmed.

            Charges at the hospital were last increased in 2021, when the trust introduced a
            flat fee for the first hour in response to complaints about queues at the pay
            machines.

            The cost of a stay of up to four hours will rise from £4.50 to £6, and the daily
            maximum from £9 to £12. Blue Badge holders and parents of babies on the neonatal
            unit will continue to park free.

            The Lenn Valley Hospitals Trust said the increase was needed to pay for resurfacing
            the main car park and installing 40 charging points for electric vehicles.

            "We know nobody welcomes higher charges, and we have kept exemptions for those who
            visit most often," said the trust's director of estates, Gillian Moss.

            Staff parking permits will not change this year after talks with unions, the trust
            said.

            The hospital's patient forum said it was disappointed not to have been consulted.
            Its chair, Peter Okoye, said regular outpatients would be hit hardest.

            "Someone coming in three times a week for dialysis is not choosing to be here," he
            said.

            The trust said patients on low incomes could apply for refunds through the
            hospital's travel costs scheme.

            Car parking brought in £2.3m for the trust last year, according to its annual
            accounts.
        """,
        edits=(Edit(t(4, 12), move=(("Charges at the hospital", "Car parking brought in"),)),),
    ),
    Story(
        key="market-traders",
        outlet="herald",
        path="/news/2025/03/market-traders-rent-strike.html",
        section="Business",
        first=t(4, 9),
        byline=("Helen Crane",),
        role="Local Democracy Reporter",
        headline="Market traders threaten rent strike over new stall fees",
        summary="Stallholders at the Corn Exchange say a 25% rise will drive traders out.",
        text="""
            Stallholders at Northgate's indoor market have threatened to withhold rent after
            the council announced fee increases of up to 25% for the coming year.

            The market, which has traded from the Corn Exchange building since 1894, has 46
            permanent stalls, nine of which are empty.

            Bev Tranter, who has run a fruit and vegetable stall there for 31 years, said the
            rise would push some traders out. "We have had a new roof, a new website and a new
            logo. What we have not had is more customers," she said.

            The traders' association says footfall fell by 18% last year and that the increase
            should be postponed until a promised marketing campaign has had time to work.

            The council said stall fees had been frozen for four years and still compared well
            with other markets in the region. The increase would raise about £60,000 a year.

            Ms Tranter said the association would meet on Wednesday to decide whether to go
            ahead with the rent strike from 1 April.

            A council spokesperson said officers were willing to discuss phasing in the new
            fees and a discount for new traders taking on empty stalls.

            The market is open from Tuesday to Saturday, with a farmers' market on the first
            Sunday of each month.
        """,
        edits=(
            Edit(t(4, 18), sub=(("Bev Tranter, who has run", "Beverley Tranter, who has run"),)),
            Edit(
                t(5, 21),
                insert=(
                    (
                        "Ms Tranter said the association would meet",
                        """On Wednesday evening the association's members voted by 29 to 4 to
                        withhold rent from April if no agreement is reached.""",
                    ),
                ),
            ),
        ),
    ),
    Story(
        key="library-hours",
        outlet="herald",
        path="/news/2025/03/library-opening-hours-cut.html",
        section="Community",
        first=t(3, 6),
        byline=("Lucy Adebayo",),
        role="Education Correspondent",
        headline="Library opening hours to be cut at three branches",
        summary="Holme Green, Tanner's Row and Eastfield libraries will each close one more "
        "day a week.",
        text="""
            Three of Northgate's branch libraries will open for fewer hours from May under a
            plan to save £180,000 a year.

            The libraries at Holme Green, Tanner's Row and Eastfield will each close for one
            extra day a week, while the Central Library will keep its current hours.

            Northgate Borough Council said the changes followed a survey of more than 2,000
            library users, most of whom said they visited on Saturdays and weekday afternoons.

            Opening hours will be concentrated on those times, and all three branches will stay
            open until 7pm on one evening a week.

            The Friends of Eastfield Library said the group was relieved no branch would close
            but worried about staff cuts. Seven posts will be lost, most through vacancies that
            will not be filled.

            The council's cabinet member for communities, Sheila Barraclough, said: "We have
            listened, and we have protected every library in the borough at a time when many
            councils are closing theirs."

            Self-service machines will be installed at Eastfield and Tanner's Row so that people
            can return books when the buildings are closed.
        """,
    ),
    Story(
        key="evening-buses",
        outlet="herald",
        path="/news/2025/03/evening-buses-withdrawn.html",
        section="Transport",
        first=t(4, 15),
        byline=("Daniel Shore",),
        role="Health and Transport Reporter",
        headline="Evening bus services to be withdrawn from two estates",
        summary="The operator says the 14 route loses money after 7pm.",
        text="""
            Evening buses to the Eastfield and Brookside estates will stop running at the end
            of April after the operator said the routes were losing money.

            Lenn Valley Buses said the last departures on the 14 route, which links both
            estates with the town centre, would leave at 7.10pm from 27 April. Sunday services
            will also end.

            Passenger numbers after 7pm have fallen by almost half since 2019, the company said,
            and the council's subsidy for the route ended last year.

            Residents' groups said the decision would leave shift workers at the hospital and
            the distribution centres on the ring road without a way home.

            "For a lot of people here the bus is the only option. Not everyone can afford a
            taxi at midnight," said Imran Siddiqui of the Brookside Residents' Association.

            The council said it was discussing a minibus service that passengers could book in
            advance with the operator, and hoped to announce details before the cuts take
            effect.

            A public meeting has been arranged at Brookside Community Centre on 10 March.
        """,
        edits=(
            Edit(
                t(5, 12),
                sub=(("Sunday services will also end.", "Sunday daytime services will continue."),),
                append=(
                    """Correction: An earlier version of this article said Sunday services on
                    the 14 route would also end. Sunday daytime services will continue.""",
                ),
            ),
        ),
    ),
    Story(
        key="rugby-clubhouse",
        outlet="herald",
        path="/news/2025/03/rugby-club-clubhouse-approved.html",
        section="Sport",
        first=t(5, 6),
        byline=("Owen Pritchard",),
        role="Sports Reporter",
        headline="Rugby club wins approval for new clubhouse after 10-year wait",
        summary="Northgate RFC's £1.9m building will include changing rooms for women's teams.",
        text="""
            Northgate Rugby Club has been given permission to replace its clubhouse, ending a
            decade-long search for the money and a site.

            The club's planning application for a two-storey building at its Hollins Lane ground
            was approved unanimously by the borough's planning committee on Tuesday.

            The new clubhouse will include changing rooms for women's and girls' teams, which
            the club says it has had to do without since its first women's side was formed in
            2016

            Chairman Geoff Lister said: "Its been a long road, but this is a building for the
            whole community, not just for rugby."

            The £1.9m project is being paid for by a sports foundation grant, a loan from the
            sport's governing body and seven years of fundraising by members.

            Neighbours had raised concerns about parking and floodlights, and the committee
            attached conditions limiting the use of the pitch lights to 9.30pm.

            Work is expected to start in the summer, with the building ready for the start of
            the 2026-27 season. Until then the clubs teams will continue to change in portable
            cabins.
        """,
        edits=(
            Edit(
                t(5, 15),
                sub=(
                    ("was formed in 2016", "was formed in 2016."),
                    ('"Its been a long road', "\"It's been a long road"),
                    ("the clubs teams", "the club's teams"),
                    ("the 2026-27 season", "the 2026–27 season"),
                ),
            ),
        ),
    ),
    Story(
        key="lenn-meadows",
        outlet="herald",
        path="/news/2025/03/lenn-meadows-housing-inquiry.html",
        section="Planning",
        first=t(5, 9),
        byline=("Marcus Hale",),
        role="Political Reporter",
        headline="Plans for 600 homes on Lenn Meadows go to public inquiry",
        summary="An inspector will decide Harcourt Land's scheme after the council missed its "
        "deadline.",
        text="""
            A developer's plan to build 600 homes on farmland at Lenn Meadows, to the west of
            Northgate, will be decided at a public inquiry after the council failed to reach a
            decision in time.

            Harcourt Land appealed in December, arguing that the council had taken too long to
            determine an application it submitted 14 months earlier.

            The inquiry will open on 8 April at the Corn Exchange and is expected to last eight
            days. An independent inspector will hear evidence from the developer, the council
            and local residents.

            The site is not allocated for housing in the borough's local plan, which is being
            revised. The council's planning officers had recommended the scheme for refusal,
            citing the loss of farmland and pressure on roads.

            The developer says the scheme would include 180 affordable homes, land for a primary
            school and a new bus link to the town centre.

            Campaign group Save Lenn Meadows has raised £14,000 towards the cost of legal
            representation at the inquiry.

            Its spokesperson, Judith Keane, said: "This is the wrong place for a housing estate.
            The fields flood every winter and the roads are already at capacity."

            Northgate's housing waiting list stands at 3,400 households, according to the
            council's latest figures.
        """,
        edits=(
            Edit(
                t(5, 15),
                headline="Lenn Meadows: what the 600-home inquiry means for Northgate",
                restamp=False,
            ),
            Edit(
                t(5, 21),
                headline="Plans for 600 homes on Lenn Meadows go to public inquiry",
                restamp=False,
            ),
        ),
    ),
    Story(
        key="warehouse-fire",
        outlet="herald",
        path="/news/2025/03/wrenfield-warehouse-fire.html",
        section="News",
        first=t(6, 9),
        byline=("Sam Kettle",),
        role="News Reporter",
        headline="Large fire at warehouse on Wrenfield industrial estate",
        summary="Smoke can be seen across the town; people nearby are asked to keep windows shut.",
        text="""
            Firefighters are tackling a large fire at a warehouse on the Wrenfield industrial
            estate in Northgate.

            Three fire engines were called to the building on Foundry Way at about 06:30 on
            Thursday. Smoke could be seen across the town.

            Lenn Valley Fire and Rescue Service asked people living nearby to keep their windows
            and doors closed.

            Foundry Way and part of Wrenfield Road have been closed, and drivers are being
            asked to avoid the area.

            The warehouse is used by a furniture distribution company, according to its
            website.

            There are no reports of anyone being injured.
        """,
        edits=(
            Edit(
                t(6, 12),
                sub=(("Three fire engines were called", "Six fire engines were called"),),
                insert=(
                    (
                        "Foundry Way and part of Wrenfield Road",
                        """The fire service said crews were expected to remain at the scene
                        throughout the day. Part of the warehouse roof has collapsed.""",
                    ),
                ),
            ),
            Edit(
                t(6, 18),
                headline="Warehouse fire on Wrenfield estate brought under control",
                sub=(
                    (
                        "Firefighters are tackling a large fire",
                        "Firefighters have brought under control a large fire",
                    ),
                ),
                insert=(
                    (
                        "The fire service said crews",
                        """Group manager Steph Ingram said: "Crews worked in difficult
                        conditions to stop the fire spreading to neighbouring units, and I'd
                        like to thank residents for their patience.\"""",
                    ),
                ),
            ),
            Edit(
                t(7, 9),
                headline="Wrenfield warehouse fire was started deliberately, police say",
                insert=(
                    (
                        "",
                        """Police say a fire that destroyed a warehouse on the Wrenfield
                        industrial estate on Thursday was started deliberately, and have
                        appealed for witnesses.""",
                    ),
                ),
                sub=(
                    (
                        "Firefighters have brought under control a large fire at a warehouse",
                        "Firefighters brought the fire under control",
                    ),
                    (
                        "on the Wrenfield industrial estate in Northgate.",
                        "on Thursday afternoon after working at the scene for more than eight "
                        "hours.",
                    ),
                ),
                append=(
                    """Anyone with information is asked to contact police, quoting incident
                    204 of 6 March.""",
                ),
            ),
        ),
    ),
    # --- The Fenmouth Courier: Atom ----------------------------------------------------------
    Story(
        key="harbour-wall",
        outlet="courier",
        path="/2025/03/03/harbour-wall-repairs-to-begin/",
        section="News",
        first=t(3, 6),
        byline=("Courier Reporter",),
        role="",
        headline="Harbour wall repairs to begin after storm damage",
        summary="The outer wall will be rebuilt in its original granite over 14 weeks.",
        text="""
            Repairs to Fenmouth's outer harbour wall will begin next week, more than two months
            after a storm tore a 30-metre gap in its parapet.

            The Fenmouth Harbour Commissioners said contractors would work from a floating
            pontoon so that the harbour could stay open to fishing boats throughout.

            The £850,000 scheme will rebuild the damaged section in granite recovered from the
            original wall, which was built in 1842, and strengthen its foundations.

            The harbour master, Captain Ruth Penrose, said the work was expected to take 14
            weeks, weather permitting. "It has been an anxious winter for everyone who works on
            the water," she said.

            The walkway along the top of the wall has been closed since the storm in December
            and will not reopen until the work is finished.

            The commissioners are paying for the repairs from their reserves and an insurance
            claim, and have applied for a coastal resilience grant to cover part of the cost.

            Anglers who used the wall have been offered space on the east pier instead.
        """,
        edits=(
            Edit(t(3, 15), byline=("Nadia Fenwick", "Tom Ashby")),
            Edit(t(4, 18), sub=(("will begin next week", "will begin on Monday"),)),
        ),
    ),
    Story(
        key="gull-point-rescue",
        outlet="courier",
        path="/2025/03/03/walkers-rescued-gull-point/",
        section="News",
        first=t(3, 9),
        byline=("Nadia Fenwick",),
        role="",
        headline="Walkers rescued after being cut off by tide at Gull Point",
        summary="Fenmouth lifeboat was launched after a walker on the coast path raised the alarm.",
        text="""
            A group of walkers had to be rescued by Fenmouth lifeboat after being cut off by the
            tide below the cliffs at Gull Point on Sunday afternoon.

            The volunteer crew was launched at 3.40pm after a member of the public raised the
            alarm from the coast path.

            The walkers, who were on a guided walk organised by a rambling club from outside the
            county, were taken back to Fenmouth harbour.

            None of them needed hospital treatment, the lifeboat station said.

            Gull Point is cut off at high tide, and signs on the beach warn walkers to check
            tide times before setting out.

            It is the third call-out to the area this year.

            Anyone who sees someone in difficulty at the coast should call 999 and ask for the
            coastguard.
        """,
        edits=(
            Edit(
                t(3, 21),
                sub=(("A group of walkers had", "A group of 11 walkers had"),),
                insert=(
                    (
                        "The volunteer crew was launched",
                        """The lifeboat's helm, Dan Trevithick, said the group had done the
                        right thing by staying together on a ledge above the water. "They were
                        cold and frightened, but they kept calm, and that made our job much
                        easier," he said.""",
                    ),
                ),
            ),
            Edit(
                t(4, 9),
                sub=(
                    (
                        "It is the third call-out to the area this year.",
                        "It is the third time the lifeboat has been called to Gull Point this "
                        "year, and the second in a fortnight.",
                    ),
                ),
            ),
        ),
    ),
    Story(
        key="pier-sale",
        outlet="courier",
        path="/2025/03/03/fenmouth-pier-for-sale/",
        section="Business",
        first=t(3, 12),
        byline=("Tom Ashby",),
        role="",
        headline="Fenmouth pier put up for sale for £1",
        summary="The family that has run the pier since 1968 says it cannot afford £2m of repairs.",
        text="""
            Fenmouth's Victorian pier has been put up for sale for £1 by its owners, who say
            they can no longer afford to maintain it.

            The Fenmouth Pier Company, a family business that has run the pier since 1968, said
            repairs identified in a survey last year would cost at least £2m.

            The pier's pavilion, which houses an amusement arcade and a café, will stay open
            while a buyer is sought.

            Director Graham Polwhele said the family had been overwhelmed by messages of
            support. "We would like the pier to go to someone who will look after it for the
            next fifty years, and that matters more to us than the price," he said.

            Fenmouth Town Council said it would consider whether a community trust could take
            the pier on, as has happened in several other seaside towns.

            The pier was opened in 1889 and was partly destroyed by fire in 1932. It is a listed
            structure, which means any buyer would need consent for major alterations.

            Anyone interested has been asked to contact the company's agents by the end of
            April.
        """,
        edits=(Edit(t(4, 9), gone=True), Edit(t(5, 9), back=True, restamp=False)),
    ),
    Story(
        key="crab-limits",
        outlet="courier",
        path="/2025/03/03/crab-catch-limits-smaller-boats/",
        section="Business",
        first=t(3, 15),
        byline=("Nadia Fenwick",),
        role="",
        headline="Fishing crews warn new crab limits could sink smaller boats",
        summary="Pot limits and seasonal closures come into force in June.",
        text="""
            Crab and lobster fishermen in Fenmouth say new catch limits announced this week
            could force some of the harbour's smaller boats out of business.

            The limits, which come into force in June, cap the number of pots each vessel under
            ten metres can work and close some grounds east of Gull Point for four months of
            the year.

            The regional fisheries authority said surveys showed brown crab stocks had fallen to
            their lowest level since records began, and that action was needed to protect the
            fishery's future.

            Skipper Alan Rowse, who fishes from a nine-metre boat with his son, said the rules
            would cut his income by about a third. "We are not against conservation. We are the
            ones who need there to be crabs in ten years' time," he said.

            The Fenmouth Fishermen's Association said it would ask the authority to phase in the
            limits over two seasons and to fund a scheme to buy back pots from fishermen who
            want to retire.

            About 40 boats work from Fenmouth, most of them under ten metres, and the industry
            supports more than 150 jobs in the town, including processing and sales.

            The authority will hold a meeting for fishermen at the harbour office on 18 March.
        """,
        edits=(Edit(t(4, 12)), Edit(t(6, 15))),
    ),
    Story(
        key="island-ferry",
        outlet="courier",
        path="/2025/03/04/skerran-ferry-reduced-timetable/",
        section="Transport",
        first=t(4, 6),
        byline=("Tom Ashby",),
        role="",
        headline="Island ferry to run reduced timetable while vessel is repaired",
        summary="Foot passengers only, four crossings a day, while the Morwenna is out of service.",
        text="""
            The ferry between Fenmouth and Skerran Island will run a reduced timetable for at
            least three weeks while its main vessel undergoes engine repairs.

            The Skerran Ferry Company said the Morwenna would be taken out of service on
            Monday after a fault was found during routine maintenance.

            A smaller relief vessel, which carries foot passengers only, will make four return
            crossings a day instead of the usual seven.

            Island residents who need to move vehicles or heavy goods have been asked to
            contact the company to arrange a crossing on a chartered landing craft.

            Skerran has about 320 permanent residents, and the ferry is the only scheduled link
            with the mainland.

            Island councillor Morag Tully said people understood that repairs were needed but
            were worried about getting to medical appointments. "Four crossings a day doesn't
            leave much room if your appointment runs late," she said.

            The company said it would give priority to residents with medical appointments and
            would publish daily updates on its website.
        """,
        edits=(
            Edit(
                t(4, 15),
                insert=(
                    (
                        "A smaller relief vessel",
                        """The first crossing will leave Fenmouth at 7.30am and the last will
                        return from the island at 5.15pm. There will be no Sunday evening
                        sailing.""",
                    ),
                ),
            ),
            Edit(
                t(5, 18),
                sub=(
                    (
                        "for at least three weeks",
                        "until at least the end of the month",
                    ),
                    (
                        "will make four return crossings a day",
                        "will make five return crossings a day",
                    ),
                ),
            ),
            Edit(
                t(7, 12),
                append=(
                    """The company said on Friday that the Morwenna's new engine parts had
                    arrived and that it hoped to return the vessel to service a week earlier
                    than planned.""",
                ),
            ),
        ),
    ),
    Story(
        key="beach-huts",
        outlet="courier",
        path="/2025/03/04/beach-hut-waiting-list-closes/",
        section="News",
        first=t(4, 12),
        byline=("Courier Reporter",),
        role="",
        headline="Beach hut waiting list closes after record demand",
        summary="More than 500 people want one of the 84 council huts on South Sands.",
        text="""
            Fenmouth Town Council has closed its waiting list for beach huts on the South Sands
            after more than 500 people applied for one of the 84 council-owned huts.

            The huts are let on annual licences, and only six or seven usually become available
            each year. At current rates, the council estimates that someone joining the list
            now would wait more than 70 years.

            The list will be reviewed next year, when the council will decide whether to reopen
            it or to allocate vacant huts by ballot.

            The annual licence fee for a council hut is £640. Privately owned huts on the North
            Sands have sold for more than £30,000 in recent years.

            Town clerk Sarah Kellow said the council did not want to keep adding names to a
            list that most applicants would never reach the top of.

            "It is not fair to take people's details and give them false hope," she said.

            The council is considering whether space could be found for another row of huts
            near the lifeguard station, subject to planning permission.
        """,
    ),
    Story(
        key="care-home",
        outlet="courier",
        path="/2025/03/05/harbour-view-care-home-inspection/",
        section="Health",
        first=t(5, 6),
        byline=("Nadia Fenwick",),
        role="",
        headline="Care home told to improve after inspectors find staff shortages",
        summary="Harbour View House was rated as requiring improvement after an unannounced "
        "inspection.",
        text="""
            A care home in Fenmouth has been told to make improvements after inspectors found
            it did not always have enough staff on duty to meet residents' needs.

            Harbour View House, which cares for up to 38 older people, was rated as requiring
            improvement following an unannounced inspection by the care regulator in January.

            Inspectors found that call bells were sometimes left unanswered for more than 15
            minutes during the night, and that agency staff were not always told about
            residents' medical conditions.

            They also said the home was clean and well decorated, and that residents spoke
            warmly about the permanent staff.

            The report said managers had begun recruiting and had reduced the home's reliance
            on agency staff since the inspection.

            The home's owner, Coastline Care Group, said it accepted the findings and had
            already hired six new care workers.

            A relative of one resident, who asked not to be named, said families had raised
            concerns about staffing with the home last summer and had been ignored.

            The home will be inspected again within six months.
        """,
        edits=(
            Edit(t(5, 15), gone=True),
            Edit(
                t(6, 9),
                back=True,
                sub=(
                    (
                        "call bells were sometimes left unanswered for more than 15 minutes",
                        "call bells were on some occasions not answered for more than 15 minutes",
                    ),
                ),
                drop=("A relative of one resident",),
                insert=(
                    (
                        "The home's owner, Coastline Care Group",
                        """In a further statement, the group said no resident had come to harm
                        and that night staffing had been increased to four care workers since
                        February.""",
                    ),
                ),
                append=(
                    """This article has been updated to include a further response from
                    Coastline Care Group.""",
                ),
            ),
        ),
    ),
    Story(
        key="shanty-festival",
        outlet="courier",
        path="/2025/03/06/sea-shanty-festival-line-up/",
        section="Arts",
        first=t(6, 12),
        byline=("Tom Ashby",),
        role="",
        headline="Sea shanty festival returns with bigger line-up",
        summary="More than 40 groups will sing over three days in June.",
        text="""
            Fenmouth's sea shanty festival will return in June with more than 40 groups booked
            to perform over three days, its organisers have announced.

            The festival, which began in 2011 as an afternoon of singing in the Anchor Inn, now
            fills the town's pubs, the harbour front and a marquee on the quay.

            This year's line-up includes choirs from overseas for the first time, as well as the
            festival's founders, the Fenmouth Fishermen's Choir.

            Organiser Jenny Carne said the festival raised almost £12,000 for the lifeboat
            station last year.

            "It started as a few friends who liked singing, and now we have people booking their
            holidays around it," she said.

            Most events are free, though tickets will be needed for the Saturday evening
            concert in the marquee, which go on sale on 1 April.

            The harbour road will be closed to traffic on the Saturday and Sunday of the
            festival.
        """,
        edits=(
            Edit(
                t(7, 6),
                insert=(
                    (
                        "This year's line-up includes",
                        """A children's shanty workshop will be held in the town library on the
                        Friday afternoon, with places given out on a first-come basis.""",
                    ),
                ),
            ),
        ),
    ),
    # --- The Vale Ledger: a news sitemap ----------------------------------------------------
    Story(
        key="quarry",
        outlet="ledger",
        path="/environment/quarry-extension-hobbs-wood-24180.html",
        section="Environment",
        first=t(3, 6),
        byline=("Elspeth Grieve",),
        role="Environment Correspondent",
        headline="Quarry seeks permission to extend towards ancient woodland",
        summary="Vale Aggregates wants 12 more hectares at Kelmere Quarry.",
        text="""
            The operator of Kelmere Quarry has applied for permission to extend the site by 12
            hectares, bringing it within 50 metres of Hobb's Wood, one of the oldest woodlands
            in the vale.

            Vale Aggregates says the extension would allow it to keep extracting limestone until
            2041 and would safeguard 34 jobs at the quarry and its processing plant.

            The company's application includes a plan to plant 8 hectares of new woodland and to
            restore the worked-out parts of the quarry as a nature reserve.

            The Kelmere Vale Wildlife Trust said it would object. Its conservation manager,
            Tobias Fenn, said a 50-metre buffer was not enough to protect the woodland from dust
            and changes to its water supply.

            Residents of Upper Kelmere have also raised concerns about blasting, which they say
            already makes windows rattle in the village.

            The company said blasting was monitored and had never exceeded the limits set in its
            existing permission.

            Kelmere Vale District Council is expected to decide the application in the summer.
            Comments can be made until 4 April.
        """,
        edits=(
            Edit(
                t(3, 18),
                insert=(
                    (
                        "The company said blasting was monitored",
                        """Parish council chair Hilary Dodd said the village was not opposed to
                        the quarry. "It has been part of Kelmere for a hundred years. But it
                        gets closer every time, and people want to know where it ends," she
                        said.""",
                    ),
                ),
            ),
            Edit(
                t(5, 15),
                sub=(
                    (
                        "Comments can be made until 4 April.",
                        "The deadline for comments has been extended to 18 April at the "
                        "request of the parish council.",
                    ),
                ),
            ),
        ),
    ),
    Story(
        key="wind-farm",
        outlet="ledger",
        path="/environment/corriby-moor-community-wind-farm-24187.html",
        section="Environment",
        first=t(3, 12),
        byline=("Callum Reid",),
        role="Chief Reporter",
        headline="Community wind farm plan wins backing from parish meetings",
        summary="Four turbines on Corriby Moor could power 9,000 homes.",
        text="""
            A plan for a community-owned wind farm on Corriby Moor has been backed by five of
            the six parish meetings asked to comment on it.

            Kelmere Vale Community Energy wants to build four turbines, each up to 125 metres
            tall, which it says would generate enough electricity for about 9,000 homes.

            Profits from the scheme would go into a fund for local projects, and households in
            the nearest villages would be offered a discount on their electricity bills.

            The only parish to object, Marrowby, said the turbines would dominate views from the
            village and from a popular walking route along the edge of the moor.

            The co-operative's chair, Anwen Price, said the group had changed the layout twice
            in response to concerns. "We have moved the nearest turbine almost half a mile
            further from Marrowby," she said.

            The co-operative has raised £1.2m from a share offer, with more than 700 members,
            most of whom live in the vale.

            A planning application is expected to be submitted to the district council in May.
        """,
        edits=(
            Edit(
                t(4, 9),
                sub=(
                    (
                        "the six parish meetings asked to comment on it.",
                        "the six parish meetings held across the vale last month.",
                    ),
                ),
                append=(
                    """A previous proposal for a commercial wind farm on the moor was withdrawn
                    in 2014 after more than 1,000 objections.""",
                ),
            ),
        ),
    ),
    Story(
        key="missing-walker",
        outlet="ledger",
        path="/police-courts/corriby-moor-missing-walker-appeal-24194.html",
        section="Police & Courts",
        first=t(4, 6),
        byline=("Callum Reid",),
        role="Chief Reporter",
        headline="Police appeal for help to find missing walker on Corriby Moor",
        summary="Trevor Ainsley, 67, set out from Corriby Edge on Monday morning.",
        text="""
            Police are asking for help to find a 67-year-old man who has not been seen since he
            set out for a walk on Corriby Moor on Monday morning.

            Trevor Ainsley, from Tolsby, left his home at about 9am and is thought to have
            parked his car at the Corriby Edge car park, where it was found on Monday evening.

            He is described as white, about 5ft 10in tall and of slim build, with short grey
            hair. He was wearing a red waterproof jacket and walking boots.

            Vale Constabulary said officers and the Kelmere Fell Rescue Team searched the moor
            overnight with the help of a drone.

            Inspector Karen Lowther said: "Trevor is an experienced walker, but the weather on
            the moor changed quickly yesterday afternoon and we are concerned for his welfare."

            Anyone who was on the moor on Monday and may have seen him is asked to call 101,
            quoting incident 112 of 3 March.
        """,
        edits=(
            Edit(
                t(4, 12),
                headline="Missing walker found safe after night on Corriby Moor",
                drop=("He is described as white", "Anyone who was on the moor on Monday"),
                sub=(
                    (
                        "Police are asking for help to find a 67-year-old man who has not been "
                        "seen since he set out",
                        "Police had asked for help to find the 67-year-old, who had not been "
                        "seen since he set out",
                    ),
                ),
                insert=(
                    (
                        "",
                        """A walker who spent the night on Corriby Moor has been found safe and
                        well, police say.""",
                    ),
                    (
                        "Inspector Karen Lowther said",
                        """Mr Ainsley was found by rescue team members in a sheltered gully at
                        about 10.15am on Tuesday. He was cold but otherwise unhurt, and was
                        taken to Kelmere Community Hospital as a precaution.""",
                    ),
                ),
                append=("Police thanked everyone who had shared the appeal.",),
            ),
            Edit(
                t(4, 21),
                insert=(
                    (
                        "Mr Ainsley was found by rescue team members",
                        """In a statement, his family said: "We cannot thank the rescue team
                        enough. They went out in terrible conditions to bring Dad home.\"""",
                    ),
                ),
            ),
        ),
    ),
    Story(
        key="creamery",
        outlet="ledger",
        path="/business/tolsby-creamery-closure-24201.html",
        section="Business",
        first=t(4, 15),
        byline=("Elspeth Grieve",),
        role="Senior Reporter",
        headline="Creamery to close with loss of 85 jobs",
        summary="Tolsby Dairies will move production out of the vale by the end of the year.",
        text="""
            A creamery that has made cheese in Tolsby for more than a century is to close, with
            the loss of 85 jobs.

            Tolsby Dairies said production would move to its larger site outside the vale by
            the end of the year.

            The company said the Tolsby building needed investment of more than £6m to meet
            modern standards, and that milk supplies in the area had fallen as farms switched
            to other uses.

            Staff were told of the decision at a meeting on Tuesday morning. A consultation on
            redundancies has begun, and the company said some workers would be offered jobs at
            the other site, 40 miles away.

            Union representative Gareth Lowe said members were shocked. "Families here have
            worked at the creamery for three or four generations," he said.

            The district council's economic development lead, Cllr Priti Shah, said the council
            would work with the company to find a new use for the site.

            About 30 dairy farms in the vale supply milk to the creamery. The company said it
            would continue to buy their milk for the new site.
        """,
        edits=(
            Edit(
                t(5, 18),
                insert=(
                    (
                        "Tolsby Dairies said production would move",
                        """The company confirmed on Wednesday that Tolsby cheese, which carries
                        the village's name, would continue to be made at the new site.""",
                    ),
                ),
            ),
        ),
    ),
    Story(
        key="marrowby-station",
        outlet="ledger",
        path="/transport/marrowby-station-reopening-24208.html",
        section="Transport",
        first=t(5, 9),
        byline=("Callum Reid",),
        role="Chief Reporter",
        headline="Station reopening on track for 2027, says rail trust",
        summary="Campaigners say a Marrowby station could attract 140,000 journeys a year.",
        text="""
            Passenger trains could return to Marrowby station in 2027, more than 60 years after
            it closed, according to the group campaigning to reopen it.

            The Kelmere and Vale Railway Trust says a study it paid for shows that a station on
            the existing freight line could attract 140,000 journeys a year.

            The station closed in 1964 along with the passenger service on the line, which is
            still used by freight trains serving Kelmere Quarry.

            The trust wants a new platform, car park and footbridge on the site of the old
            station, at a cost of about £11m.

            It has asked the regional transport authority to include the project in its next
            funding round, which will be announced in the autumn.

            Marrowby's nearest station at present is in Kelmere, a 20-minute drive away, and the
            village's bus service runs every two hours.

            The trust's chair, Dennis Orme, said: "The line is already there, and the trains
            already run past. We are asking for them to stop."
        """,
        edits=(
            Edit(
                t(5, 21),
                insert=(
                    (
                        "Marrowby's nearest station at present",
                        """"I would use it every day," said Leah Brough, who commutes from
                        Marrowby to Kelmere. "At the moment I spend more on parking than I do
                        on lunch.\"""",
                    ),
                ),
            ),
            Edit(
                t(7, 6),
                sub=(
                    (
                        "the existing freight line could attract 140,000 journeys a year",
                        "the existing freight line could attract about 140,000 journeys a year "
                        "within five years of opening",
                    ),
                ),
            ),
        ),
    ),
    Story(
        key="by-election",
        outlet="ledger",
        path="/politics/tolsby-ward-by-election-candidates-24215.html",
        section="Politics",
        first=t(6, 6),
        byline=("Elspeth Grieve",),
        role="Senior Reporter",
        headline="Five candidates to stand in Tolsby ward by-election",
        summary="Polling day for the district council seat is 27 March.",
        text="""
            Five candidates will contest a by-election for the Tolsby ward of Kelmere Vale
            District Council later this month.

            The by-election was called after the death in January of Cllr Margaret Hewson, who
            had represented the ward since 2007.

            The candidates are Ian Cobb, Sarah Doyle, Neil Fairbairn, Ravi Mistry and Joanne
            Turnbull. Two of them stood in the ward at the last election.

            Polling day is 27 March, and polling stations will be open from 7am to 10pm.

            The ward includes Tolsby village and the surrounding farms, and has about 4,100
            registered voters.

            Turnout at the last election in the ward, in 2023, was 38%.

            The deadline to register to vote in the by-election is 11 March. Applications for
            postal votes must be made by 5pm on 12 March.
        """,
        edits=(
            Edit(
                t(6, 21),
                insert=(
                    (
                        "The ward includes Tolsby village",
                        """The closure of Tolsby Dairies, announced this week, is expected to be
                        a central issue in the campaign.""",
                    ),
                ),
            ),
        ),
    ),
    Story(
        key="flood-warnings",
        outlet="ledger",
        path="/weather/river-kell-flood-warnings-24222.html",
        section="Weather",
        first=t(6, 15),
        byline=("Callum Reid",),
        role="Chief Reporter",
        headline="Flood warnings issued for River Kell as heavy rain moves in",
        summary="Up to 50mm of rain is forecast across the vale in 24 hours.",
        text="""
            Flood warnings have been issued for parts of the River Kell as up to 50mm of rain is
            forecast to fall across the vale over the next 24 hours.

            The warnings cover riverside properties in Kelmere, Tolsby and Easterbrook, where
            the river is expected to peak on Friday morning.

            Sandbags are available from the district council's depot on Station Road, and
            residents in affected areas have been advised to move valuables upstairs.

            ## Travel

            The Kelmere to Easterbrook road is likely to be closed at the ford near Easterbrook
            Mill, which floods regularly after heavy rain.

            Forecasters said the rain would ease by Friday afternoon, but further showers were
            expected over the weekend.

            The last major flood in the vale, in 2020, damaged more than 60 homes in Kelmere.
        """,
        edits=(
            Edit(
                t(6, 21),
                sub=(("Flood warnings have been issued", "Flood warnings remain in place"),),
                insert=(
                    (
                        "Sandbags are available",
                        """The district council said a rest centre had been opened at Kelmere
                        Leisure Centre for anyone who needed to leave their home overnight.""",
                    ),
                ),
            ),
            Edit(
                t(7, 9),
                headline="River Kell peaks below flood defences as warnings are lifted",
                sub=(
                    (
                        "Flood warnings remain in place for parts of the River Kell as up to "
                        "50mm of rain is forecast to fall across the vale over the next 24 "
                        "hours.",
                        "Flood warnings for the River Kell have been lifted after the river "
                        "peaked below the top of the flood defences in Kelmere early on Friday.",
                    ),
                    (
                        "The warnings cover riverside properties",
                        "The warnings had covered riverside properties",
                    ),
                    (
                        "where the river is expected to peak on Friday morning",
                        "where the river peaked at about 5am",
                    ),
                    (
                        "is likely to be closed at the ford near Easterbrook Mill, which floods "
                        "regularly after heavy rain.",
                        "remains closed at the ford near Easterbrook Mill and is expected to "
                        "reopen on Saturday.",
                    ),
                ),
                drop=("a rest centre had been opened",),
            ),
        ),
    ),
]


# --- the cases the demo must handle ----------------------------------------------------------


class Change(NamedTuple):
    """One kind of change: the article's URL and two capture times to compare.

    The page served at `before` (the latest capture at or before it) against the page
    served at `after`. For "removed", `after` is the time its .gone marker appears; for
    "restored" and "restored_with_edit", `before` is that time and `after` the return, so
    compare the page served just before `before` with the one at `after`. For "unchanged",
    the page is written once, at `before`, and served unchanged until `after` (the last
    capture time)."""

    url: str
    before: str
    after: str


def _url(key: str) -> str:
    story = next(s for s in STORIES if s.key == key)
    return f"http://{OUTLETS[story.outlet].host}{story.path}"


# Filled in after OUTLETS is defined (the URLs need hosts): see the end of the templates.
CASES: dict[str, Change] = {}

# Kinds whose two captures must extract to the same document: no new version.
SAME_TEXT = frozenset({"redesign", "boilerplate_only", "restamped", "restored"})
# A change of punctuation only: a new version, marked minor.
MINOR = frozenset({"minor_fix"})
# The article answers 404 at `after`.
REMOVAL = frozenset({"removed"})
# The article comes back at `after` (`before` is the time it went).
RETURNS = frozenset({"restored", "restored_with_edit"})


# --- outlets and their page templates ---------------------------------------------------------

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class PageContext:
    """Everything a template needs to render one article page at one capture time."""

    outlet: Outlet
    story: Story
    url: str
    headline: str
    byline: tuple[str, ...]
    paragraphs: list[str]
    published: datetime
    updated: datetime | None
    when: datetime
    related: list[tuple[str, str, datetime]]  # (url, headline, published)
    latest: list[tuple[str, str, datetime]]  # the outlet's other stories, newest first
    most_read: list[tuple[str, str, datetime]]  # the outlet's other stories, most shared first
    shares: int
    comments: int
    number: int  # the story's id in the outlet's publishing system


@dataclass(frozen=True)
class Outlet:
    key: str  # the source name in archiver.toml
    name: str
    host: str
    feed_path: str
    feed_kind: str  # "rss", "atom" or "news-sitemap"
    templates: dict[datetime, Callable[[PageContext], str]] = field(default_factory=dict)

    def template(self, when: datetime) -> Callable[[PageContext], str]:
        """The template in use at a time: the latest one introduced at or before it."""
        return self.templates[max(start for start in self.templates if start <= when)]

    @property
    def redesigns(self) -> list[datetime]:
        return sorted(self.templates)[1:]


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def names(byline: tuple[str, ...]) -> str:
    return " and ".join(byline)


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def thousands(n: int) -> str:
    return f"{n:,}"


def body_html(paragraphs: list[str], indent: str = "") -> str:
    lines = []
    for text in paragraphs:
        if text.startswith("## "):
            lines.append(f"{indent}<h2>{esc(text[3:])}</h2>")
        else:
            lines.append(f"{indent}<p>{esc(text)}</p>")
    return "\n".join(lines)


def json_ld(ctx: PageContext) -> str:
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": ctx.headline,
        "datePublished": iso(ctx.published),
        "dateModified": iso(ctx.updated or ctx.published),
        "author": [{"@type": "Person", "name": name} for name in ctx.byline],
        "publisher": {"@type": "Organization", "name": ctx.outlet.name},
        "mainEntityOfPage": ctx.url,
    }
    return json.dumps(data, ensure_ascii=False, indent=1)


# The Northgate Herald, until Thursday 6 March 06:00 --------------------------------------------


def herald_date(when: datetime) -> str:
    return f"{when.day} {MONTHS[when.month - 1]} {when.year}, {when:%H:%M} GMT"


HERALD_SECTIONS = ("News", "Sport", "Business", "Opinion", "What's On", "Obituaries")


def herald_v1(ctx: PageContext) -> str:
    nav = "".join(f'<li><a href="/{slugify(s)}/">{esc(s)}</a></li>' for s in HERALD_SECTIONS)
    updated = ""
    if ctx.updated:
        updated = (
            f' · Updated <time datetime="{iso(ctx.updated)}">{herald_date(ctx.updated)}</time>'
        )
        modified = f'<meta property="article:modified_time" content="{iso(ctx.updated)}">\n'
    else:
        modified = ""
    authors = ", ".join(
        f'<a rel="author" href="/authors/{slugify(n)}/">{esc(n)}</a>' for n in ctx.byline
    )
    related = "\n".join(
        f'<li><a href="{esc(url)}">{esc(title)}</a></li>' for url, title, _ in ctx.related
    )
    return f"""<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<title>{esc(ctx.headline)} | Northgate Herald</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="description" content="{esc(ctx.story.summary)}">
<meta name="author" content="{esc(names(ctx.byline))}">
<meta property="og:title" content="{esc(ctx.headline)}">
<meta property="og:type" content="article">
<meta property="og:url" content="{esc(ctx.url)}">
<meta property="og:site_name" content="Northgate Herald">
<meta property="article:published_time" content="{iso(ctx.published)}">
{modified}<link rel="canonical" href="{esc(ctx.url)}">
<link rel="alternate" type="application/rss+xml" title="Northgate Herald" href="/rss.xml">
<link rel="stylesheet" href="/static/herald.7c1f.css">
<script src="/static/consent.js" defer></script>
</head>
<body class="article-page section-{slugify(ctx.story.section)}">
<a class="skip-link" href="#main">Skip to content</a>
<div id="cookie-consent" class="cookie-banner" role="dialog" aria-label="Cookie consent">
<p>We and our partners use cookies to personalise content and adverts and to analyse our
traffic. You can change your choices at any time in Privacy settings.</p>
<button type="button">Accept all</button> <button type="button">Manage preferences</button>
</div>
<header class="site-header">
<a class="logo" href="/">Northgate Herald</a>
<p class="tagline">Serving Northgate and the Lenn Valley since 1859</p>
<nav class="main-nav" aria-label="Sections">
<ul>{nav}</ul>
</nav>
</header>
<main id="main">
<nav class="breadcrumb" aria-label="Breadcrumb"><a href="/">Home</a> › <a href="/news/">News</a> \
› <a href="/news/{slugify(ctx.story.section)}/">{esc(ctx.story.section)}</a></nav>
<article class="story">
<h1 class="story-headline">{esc(ctx.headline)}</h1>
<div class="story-meta">
<p class="byline">By {authors}, {esc(ctx.story.role)}</p>
<p class="dateline">Published <time datetime="{iso(ctx.published)}">\
{herald_date(ctx.published)}</time>{updated}</p>
<div class="share-bar"><span class="share-count">{thousands(ctx.shares)} shares</span> \
<a href="#comments" class="comment-count">{ctx.comments} comments</a> \
<a href="https://social.example/share?u={esc(ctx.url)}">Share</a> \
<a href="mailto:?subject={esc(ctx.headline)}">Email</a></div>
</div>
<figure class="lead-image"><img src="/images/{ctx.number}.jpg" alt="">\
<figcaption>Photograph: Northgate Herald</figcaption></figure>
<div class="story-body">
{body_html(ctx.paragraphs)}
</div>
</article>
<aside class="related" aria-labelledby="related-title">
<h2 id="related-title">Related stories</h2>
<ul>
{related}
</ul>
</aside>
<section class="newsletter"><h2>Get the Herald in your inbox</h2>
<p>Our free morning briefing, every weekday at 7am.</p>
<form action="/newsletter/"><input type="email" name="email" placeholder="Email address">
<button>Sign up</button></form></section>
<section id="comments" class="comments"><h2>Comments ({ctx.comments})</h2>
<p>Comments are moderated. Please read our community guidelines before posting.</p></section>
</main>
<footer class="site-footer">
<ul><li><a href="/about/">About us</a></li><li><a href="/contact/">Contact</a></li>\
<li><a href="/privacy/">Privacy notice</a></li><li><a href="/terms/">Terms</a></li>\
<li><a href="/rss.xml">RSS</a></li></ul>
<p>© 2025 Northgate Herald Media Ltd. All rights reserved.</p>
</footer>
</body>
</html>
"""


# The Northgate Herald from Thursday 6 March 06:00: a redesign ---------------------------------


def herald_short_date(when: datetime) -> str:
    day = DAYS[when.weekday()][:3]
    return f"{day} {when.day} {MONTHS[when.month - 1][:3]} {when.year} {when:%H.%M} GMT"


HERALD_V2_SECTIONS = (
    "News",
    "Lenn Valley",
    "Sport",
    "Business",
    "Opinion",
    "What's On",
    "Podcasts",
    "Puzzles",
    "Jobs",
)


def compact(n: int) -> str:
    return f"{n / 1000:.1f}k" if n >= 1000 else str(n)


def herald_v2(ctx: PageContext) -> str:
    nav = "\n".join(
        f'<li class="primary-nav__item"><a href="/{slugify(s)}/">{esc(s)}</a></li>'
        for s in HERALD_V2_SECTIONS
    )
    updated = ""
    if ctx.updated:
        updated = (
            f'\n<span class="article__updated">Last updated <time itemprop="dateModified" '
            f'datetime="{iso(ctx.updated)}">{herald_short_date(ctx.updated)}</time></span>'
        )
    authors = " and ".join(
        f'<a class="article__author" href="/profile/{slugify(n)}">{esc(n)}</a>' for n in ctx.byline
    )
    related = "\n".join(
        f'<li class="rail-list__item"><a href="{esc(url)}">{esc(title)}</a></li>'
        for url, title, _ in ctx.related
    )
    most_read = "\n".join(
        f'<li class="rail-list__item"><span class="rank">{i}</span> '
        f'<a href="{esc(url)}">{esc(title)}</a></li>'
        for i, (url, title, _) in enumerate(ctx.most_read[:5], 1)
    )
    section = slugify(ctx.story.section)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>{esc(ctx.headline)} – Northgate Herald</title>
<meta name="description" content="{esc(ctx.story.summary)}">
<meta property="og:title" content="{esc(ctx.headline)}">
<meta property="og:description" content="{esc(ctx.story.summary)}">
<meta property="og:url" content="{esc(ctx.url)}">
<meta property="og:type" content="article">
<meta property="og:image" content="http://northgate-herald.example/img/og/{ctx.number}.jpg">
<meta name="author" content="{esc(names(ctx.byline))}">
<meta name="twitter:card" content="summary_large_image">
<link rel="canonical" href="{esc(ctx.url)}">
<link rel="preload" href="/assets/fonts/herald-serif.woff2" as="font" crossorigin>
<link rel="stylesheet" href="/assets/app.3e91b0.css">
<script type="application/ld+json">
{json_ld(ctx)}
</script>
<script src="/assets/app.3e91b0.js" defer></script>
</head>
<body class="t-article t-{section}">
<div id="consent-root">
<div class="consent-modal" role="dialog" aria-modal="true" aria-labelledby="consent-title">
<h2 id="consent-title">Your privacy</h2>
<p>We use cookies and similar technologies to run this site, measure our audience and show
you relevant advertising. Choose "Agree and continue" to accept them, or manage your
choices.</p>
<button class="btn btn--primary">Agree and continue</button>
<button class="btn">Reject non-essential</button>
<a href="/privacy-settings/">Privacy settings</a>
</div>
</div>
<div class="top-strip"><a href="/subscribe/">Subscribe from £1 a week</a> \
<a href="/account/login/">Sign in</a></div>
<header class="masthead">
<a class="masthead__brand" href="/"><span class="masthead__the">The</span> Northgate Herald</a>
<button class="menu-toggle" aria-expanded="false">Menu</button>
<nav class="primary-nav" aria-label="Main">
<ul class="primary-nav__list">
{nav}
</ul>
</nav>
</header>
<main class="layout layout--article" id="content">
<div class="layout__main">
<article class="article article--{section}">
<header class="article__header">
<a class="article__kicker" href="/news/{section}/">{esc(ctx.story.section)}</a>
<h1 class="article__title">{esc(ctx.headline)}</h1>
<div class="article__meta">
<div class="article__byline">By {authors} <span class="article__role">{esc(ctx.story.role)}\
</span></div>
<div class="article__timestamps"><time itemprop="datePublished" \
datetime="{iso(ctx.published)}">{herald_short_date(ctx.published)}</time>{updated}</div>
</div>
<ul class="share-tools">
<li><button class="share-tools__button" data-share="native">Share</button></li>
<li><span class="share-tools__count">{compact(ctx.shares)}</span> shares</li>
<li><a class="share-tools__comments" href="#comments">{ctx.comments}</a></li>
</ul>
</header>
<div class="article__body">
{body_html(ctx.paragraphs)}
</div>
<footer class="article__footer">
<p class="article__topics">More on: <a href="/topics/{section}/">{esc(ctx.story.section)}</a> \
<a href="/topics/northgate/">Northgate</a></p>
</footer>
</article>
<section class="comments-cta" id="comments">
<h2>Join the conversation</h2>
<p>{ctx.comments} readers have commented. <a href="/account/login/">Sign in</a> to have your \
say.</p>
</section>
</div>
<aside class="layout__rail">
<section class="rail-box rail-box--related">
<h2 class="rail-box__title">Related stories</h2>
<ol class="rail-list">
{related}
</ol>
</section>
<section class="rail-box rail-box--most-read">
<h2 class="rail-box__title">Most read</h2>
<ol class="rail-list rail-list--ranked">
{most_read}
</ol>
</section>
<div class="ad-slot ad-slot--mpu" data-slot="rail-1">Advertisement</div>
</aside>
</main>
<footer class="site-footer site-footer--v2">
<div class="site-footer__brand">The Northgate Herald</div>
<nav class="site-footer__links" aria-label="Footer">
<a href="/about/">About</a> <a href="/contact/">Contact us</a> <a href="/advertise/">Advertise</a>
<a href="/privacy/">Privacy</a> <a href="/cookies/">Cookies</a> <a href="/terms/">Terms</a>
<a href="/rss.xml">RSS</a>
</nav>
<p class="site-footer__legal">© Northgate Herald Media Ltd 2025. Registered in England and \
Wales.</p>
</footer>
</body>
</html>
"""


# The Fenmouth Courier: a blog-style publishing system ------------------------------------------


def courier_date(when: datetime) -> str:
    hour = when.hour % 12 or 12
    half = "am" if when.hour < 12 else "pm"
    return f"{MONTHS[when.month - 1]} {when.day}, {when.year} at {hour}:{when:%M} {half}"


COURIER_MENU = ("News", "Harbour", "Business", "Transport", "Health", "Arts", "Letters", "Tides")


def courier(ctx: PageContext) -> str:
    menu = "\n".join(
        f'<li class="menu-item"><a href="/category/{slugify(m)}/">{esc(m)}</a></li>'
        for m in COURIER_MENU
    )
    modified = iso(ctx.updated or ctx.published)
    authors = ", ".join(
        f'<span class="author vcard"><a class="url fn n" href="/author/{slugify(n)}/">'
        f"{esc(n)}</a></span>"
        for n in ctx.byline
    )
    related = "\n".join(
        f'<div class="jp-relatedposts-post"><h4 class="jp-relatedposts-post-title">'
        f'<a href="{esc(url)}">{esc(title)}</a></h4>'
        f'<p class="jp-relatedposts-post-date">{courier_date(when).split(" at ")[0]}</p></div>'
        for url, title, when in ctx.related
    )
    recent = "\n".join(
        f'<li><a href="{esc(url)}">{esc(title)}</a></li>' for url, title, _ in ctx.latest[:5]
    )
    category = slugify(ctx.story.section)
    return f"""<!DOCTYPE html>
<html lang="en-GB" class="no-js">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(ctx.headline)} &#8211; Fenmouth Courier</title>
<meta name="description" content="{esc(ctx.story.summary)}">
<link rel="canonical" href="{esc(ctx.url)}">
<meta property="og:locale" content="en_GB">
<meta property="og:type" content="article">
<meta property="og:title" content="{esc(ctx.headline)}">
<meta property="og:description" content="{esc(ctx.story.summary)}">
<meta property="og:url" content="{esc(ctx.url)}">
<meta property="og:site_name" content="Fenmouth Courier">
<meta property="article:published_time" content="{iso(ctx.published)}">
<meta property="article:modified_time" content="{modified}">
<meta name="author" content="{esc(names(ctx.byline))}">
<link rel="alternate" type="application/atom+xml" title="Fenmouth Courier &raquo; Feed" \
href="http://fenmouth-courier.example/feed/atom.xml">
<link rel="stylesheet" id="courier-style-css" href="/wp-content/themes/courier/style.css?ver=3.2.1">
<link rel="stylesheet" id="jetpack-css" href="/wp-content/plugins/jetpack/css/jetpack.css?ver=13.9">
</head>
<body class="post-template-default single single-post postid-{ctx.number} single-format-standard">
<div id="page" class="site">
<a class="skip-link screen-reader-text" href="#primary">Skip to content</a>
<header id="masthead" class="site-header">
<div class="site-branding">
<p class="site-title"><a href="/" rel="home">Fenmouth Courier</a></p>
<p class="site-description">News from the harbour town since 1871</p>
</div>
<nav id="site-navigation" class="main-navigation">
<button class="menu-toggle" aria-controls="primary-menu" aria-expanded="false">Menu</button>
<ul id="primary-menu" class="menu">
{menu}
</ul>
</nav>
</header>
<div id="content" class="site-content">
<main id="primary" class="site-main">
<article id="post-{ctx.number}" class="post-{ctx.number} post type-post status-publish \
format-standard hentry category-{category}">
<header class="entry-header">
<span class="cat-links"><a href="/category/{category}/" rel="category tag">\
{esc(ctx.story.section)}</a></span>
<h1 class="entry-title">{esc(ctx.headline)}</h1>
<div class="entry-meta">
<span class="byline">by {authors}</span>
<span class="posted-on">Posted on <time class="entry-date published" \
datetime="{iso(ctx.published)}">{courier_date(ctx.published)}</time>\
<time class="updated" datetime="{modified}">{courier_date(ctx.updated or ctx.published)}\
</time></span>
<span class="comments-link"><a href="#comments">{ctx.comments} Comments</a></span>
</div>
</header>
<div class="entry-content">
{body_html(ctx.paragraphs)}
<div class="sharedaddy sd-sharing-enabled"><div class="robots-nocontent sd-block sd-social">
<h3 class="sd-title">Share this:</h3>
<div class="sd-content"><ul>
<li class="share-facebook"><a href="?share=facebook" target="_blank">Facebook</a></li>
<li class="share-x"><a href="?share=x" target="_blank">X</a></li>
<li class="share-jetpack-whatsapp"><a href="?share=jetpack-whatsapp">WhatsApp</a></li>
<li class="share-email"><a href="?share=email">Email</a></li>
<li class="share-end"></li>
</ul><span class="sd-share-count">{thousands(ctx.shares)} shares</span></div>
</div></div>
<div id="jp-relatedposts" class="jp-relatedposts">
<h3 class="jp-relatedposts-headline"><em>Related</em></h3>
<div class="jp-relatedposts-items jp-relatedposts-items-visual">
{related}
</div>
</div>
</div>
<footer class="entry-footer"><span class="cat-links">Posted in <a href="/category/{category}/" \
rel="category tag">{esc(ctx.story.section)}</a></span></footer>
</article>
<div id="comments" class="comments-area">
<h2 class="comments-title">{ctx.comments} responses</h2>
<div id="respond" class="comment-respond">
<h3 id="reply-title" class="comment-reply-title">Leave a Reply</h3>
<form action="/wp-comments-post.php" method="post" id="commentform" class="comment-form">
<p class="comment-notes">Your email address will not be published.</p>
<p class="comment-form-comment"><label for="comment">Comment</label>
<textarea id="comment" name="comment"></textarea></p>
<p class="form-submit"><input name="submit" type="submit" value="Post Comment"></p>
</form>
</div>
</div>
</main>
<aside id="secondary" class="widget-area">
<section id="recent-posts-2" class="widget widget_recent_entries">
<h2 class="widget-title">Latest news</h2>
<ul>
{recent}
</ul>
</section>
<section id="text-3" class="widget widget_text">
<h2 class="widget-title">Advertise with us</h2>
<div class="textwidget"><p>Reach readers across Fenmouth and Skerran. Call the sales desk
on 01632 960 400.</p></div>
</section>
</aside>
</div>
<footer id="colophon" class="site-footer">
<div class="site-info">© 2025 Fenmouth Courier Ltd · <a href="/privacy-policy/">Privacy \
Policy</a> · <a href="/feed/atom.xml">Feed</a></div>
</footer>
</div>
<div class="cmplz-cookiebanner cmplz-show" role="dialog" aria-live="polite" \
aria-labelledby="cmplz-header">
<div class="cmplz-header" id="cmplz-header">Manage Cookie Consent</div>
<div class="cmplz-message"><p>To provide the best experiences, we use technologies like
cookies to store and access device information.</p></div>
<div class="cmplz-buttons"><button class="cmplz-accept">Accept</button>
<button class="cmplz-deny">Deny</button> <button class="cmplz-view-preferences">View
preferences</button></div>
</div>
<script src="/wp-includes/js/wp-emoji-release.min.js?ver=6.7.2" defer></script>
</body>
</html>
"""


# The Vale Ledger --------------------------------------------------------------------------------


def ledger_date(when: datetime) -> str:
    hour = when.hour % 12 or 12
    half = "am" if when.hour < 12 else "pm"
    return f"{when.day} {MONTHS[when.month - 1][:3]} {when.year} • {hour}:{when:%M}{half}"


LEDGER_NAV = (
    "News",
    "Police & Courts",
    "Environment",
    "Business",
    "Politics",
    "Transport",
    "Weather",
    "Sport",
    "Notices",
)


def ledger(ctx: PageContext) -> str:
    nav = "\n".join(f'<a href="/{slugify(s)}/">{esc(s)}</a>' for s in LEDGER_NAV)
    updated = ""
    if ctx.updated:
        updated = (
            f'<br><span class="label">Updated:</span> <time datetime="{iso(ctx.updated)}">'
            f"{ledger_date(ctx.updated)}</time>"
        )
    authors = " and ".join(f'<a href="/staff/{slugify(n)}">{esc(n)}</a>' for n in ctx.byline)
    cards = "\n".join(
        f'<a class="card" href="{esc(url)}"><span class="card__title">{esc(title)}</span>'
        f'<span class="card__time">{ledger_date(when)}</span></a>'
        for url, title, when in ctx.related
    )
    ticker_url, ticker_title, _ = ctx.latest[0]
    return f"""<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<title>{esc(ctx.headline)} | The Vale Ledger</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="description" content="{esc(ctx.story.summary)}">
<meta property="og:title" content="{esc(ctx.headline)}">
<meta property="og:url" content="{esc(ctx.url)}">
<meta property="og:site_name" content="The Vale Ledger">
<meta name="twitter:card" content="summary_large_image">
<link rel="canonical" href="{esc(ctx.url)}">
<link rel="stylesheet" href="/css/ledger.min.css?v=2025.02">
<script type="application/ld+json">
{json_ld(ctx)}
</script>
</head>
<body>
<div class="cookie-notice" id="cookie-notice" role="region" aria-label="Cookies">
<p>This website uses cookies to improve your experience and to help us understand how it is
used. <a href="/cookies/">Find out more</a></p>
<button type="button" class="cookie-notice__ok">OK</button>
</div>
<header class="header">
<div class="header__inner">
<a class="brand" href="/">The Vale Ledger</a>
<span class="edition">Kelmere · Tolsby · Marrowby · Corriby</span>
<a class="header__donate" href="/support/">Support local journalism</a>
</div>
<nav class="nav" aria-label="Sections">
{nav}
</nav>
</header>
<div class="container">
<div class="ticker"><strong>Latest:</strong> <a href="{esc(ticker_url)}">\
{esc(ticker_title)}</a></div>
<article class="news-article">
<div class="news-article__section"><a href="/{slugify(ctx.story.section)}/">\
{esc(ctx.story.section)}</a></div>
<h1 class="news-article__headline">{esc(ctx.headline)}</h1>
<div class="news-article__author">By {authors}<span class="role">{esc(ctx.story.role)}</span>\
</div>
<div class="news-article__dates"><span class="label">Published:</span> \
<time datetime="{iso(ctx.published)}">{ledger_date(ctx.published)}</time>{updated}</div>
<div class="news-article__social"><a href="https://social.example/share?u={esc(ctx.url)}">\
Share</a> <button type="button">Copy link</button> <span class="count">\
{thousands(ctx.shares)} shares</span></div>
<div class="news-article__body">
{body_html(ctx.paragraphs)}
</div>
</article>
<section class="related-content" aria-labelledby="related-heading">
<h2 id="related-heading">Related stories</h2>
<div class="cards">
{cards}
</div>
</section>
</div>
<footer class="footer">
<p>The Vale Ledger is published by Vale Ledger Media, a community interest company.
<a href="/about/">About us</a> · <a href="/complaints/">Complaints</a> ·
<a href="/privacy/">Privacy</a></p>
<p>© 2025 Vale Ledger Media</p>
</footer>
</body>
</html>
"""


OUTLETS: dict[str, Outlet] = {
    "herald": Outlet(
        key="northgate-herald",
        name="Northgate Herald",
        host="northgate-herald.example",
        feed_path="/rss.xml",
        feed_kind="rss",
        templates={t(3, 6): herald_v1, t(6, 6): herald_v2},
    ),
    "courier": Outlet(
        key="fenmouth-courier",
        name="Fenmouth Courier",
        host="fenmouth-courier.example",
        feed_path="/feed/atom.xml",
        feed_kind="atom",
        templates={t(3, 6): courier},
    ),
    "ledger": Outlet(
        key="vale-ledger",
        name="The Vale Ledger",
        host="vale-ledger.example",
        feed_path="/sitemap-news.xml",
        feed_kind="news-sitemap",
        templates={t(3, 6): ledger},
    ),
}

CASES.update(
    {
        # Real edits: each must become a new version.
        "headline_softened": Change(_url("flood-report"), "2025-03-03T09:00Z", "2025-03-03T18:00Z"),
        "qualifier_added": Change(_url("bridge"), "2025-03-03T06:00Z", "2025-03-03T12:00Z"),
        "quote_added": Change(_url("school-merger"), "2025-03-03T12:00Z", "2025-03-03T21:00Z"),
        "quote_removed": Change(_url("school-merger"), "2025-03-03T21:00Z", "2025-03-04T15:00Z"),
        "paragraph_inserted": Change(_url("bridge"), "2025-03-03T12:00Z", "2025-03-03T18:00Z"),
        "paragraph_moved": Change(
            _url("hospital-parking"), "2025-03-04T06:00Z", "2025-03-04T12:00Z"
        ),
        "name_expanded": Change(_url("market-traders"), "2025-03-04T09:00Z", "2025-03-04T18:00Z"),
        "correction_appended": Change(
            _url("evening-buses"), "2025-03-04T15:00Z", "2025-03-05T12:00Z"
        ),
        "byline_changed": Change(_url("harbour-wall"), "2025-03-03T06:00Z", "2025-03-03T15:00Z"),
        "headline_flip": Change(_url("lenn-meadows"), "2025-03-05T09:00Z", "2025-03-05T15:00Z"),
        "headline_revert": Change(_url("lenn-meadows"), "2025-03-05T15:00Z", "2025-03-05T21:00Z"),
        "minor_fix": Change(_url("rugby-clubhouse"), "2025-03-05T06:00Z", "2025-03-05T15:00Z"),
        # Removal and return.
        "removed": Change(_url("pier-sale"), "2025-03-03T12:00Z", "2025-03-04T09:00Z"),
        "restored": Change(_url("pier-sale"), "2025-03-04T09:00Z", "2025-03-05T09:00Z"),
        "restored_with_edit": Change(_url("care-home"), "2025-03-05T15:00Z", "2025-03-06T09:00Z"),
        # The page changes around an unchanged article: no new version.
        "redesign": Change(_url("library-hours"), "2025-03-03T06:00Z", "2025-03-06T06:00Z"),
        "boilerplate_only": Change(_url("crab-limits"), "2025-03-03T15:00Z", "2025-03-04T12:00Z"),
        "restamped": Change(_url("crab-limits"), "2025-03-04T12:00Z", "2025-03-06T15:00Z"),
        # Never edited, never re-rendered.
        "unchanged": Change(_url("beach-huts"), "2025-03-04T12:00Z", "2025-03-07T12:00Z"),
    }
)


# --- replay state ------------------------------------------------------------------------------


@dataclass
class StoryState:
    headline: str
    byline: tuple[str, ...]
    paragraphs: list[str]
    updated: datetime | None = None
    live: bool = True


def _find(paragraphs: list[str], anchor: str, story: Story) -> int:
    hits = [i for i, text in enumerate(paragraphs) if para(anchor) in text]
    if len(hits) != 1:
        raise ValueError(f"{story.key}: anchor {anchor!r} matches {len(hits)} paragraphs")
    return hits[0]


def apply(edit: Edit, state: StoryState, story: Story) -> None:
    """Apply one edit to a story's state, checking every anchor matches exactly once."""
    paras = state.paragraphs
    if edit.headline is not None:
        state.headline = edit.headline
    if edit.byline is not None:
        state.byline = edit.byline
    for anchor in edit.drop:
        del paras[_find(paras, anchor, story)]
    for old, new in edit.sub:
        old, new = para(old), para(new)
        count = sum(text.count(old) for text in paras)
        if count != 1:
            raise ValueError(f"{story.key}: {old!r} occurs {count} times")
        i = next(i for i, text in enumerate(paras) if old in text)
        paras[i] = paras[i].replace(old, new)
    for anchor, after in edit.move:
        moved = paras.pop(_find(paras, anchor, story))
        paras.insert(_find(paras, after, story) + 1, moved)
    for anchor, text in edit.insert:
        position = _find(paras, anchor, story) + 1 if anchor else 0
        paras.insert(position, para(text))
    paras.extend(para(text) for text in edit.append)
    if edit.gone:
        state.live = False
    if edit.back:
        state.live = True
    if edit.restamp and not edit.gone:
        # Editors save a few minutes before the capture that sees the change.
        minutes = 7 + zlib.crc32(f"{story.key}{edit.at}".encode()) % 50
        state.updated = edit.at - timedelta(minutes=minutes)


def url_of(story: Story) -> str:
    return f"http://{OUTLETS[story.outlet].host}{story.path}"


def file_of(url: str) -> str:
    """The stored path of a URL under a capture time: host/path, "/" → "/index.html"."""
    rest = url.split("://", 1)[1]
    return rest + "index.html" if rest.endswith("/") else rest


def grid() -> list[datetime]:
    """Every time a capture could be made; only those where something changed are kept."""
    return [t(day, hour) for day in range(3, 8) for hour in (6, 9, 12, 15, 18, 21)]


def story_number(story: Story) -> int:
    index = [s.key for s in STORIES if s.outlet == story.outlet].index(story.key)
    base = {"herald": 88410, "courier": 5120, "ledger": 24180}[story.outlet]
    return base + index * 7


def shares(story: Story, when: datetime) -> int:
    hours = max(1.0, (when - story.published).total_seconds() / 3600)
    return int((25 + zlib.crc32(story.key.encode()) % 70) * hours**0.7)


def comments(story: Story, when: datetime) -> int:
    hours = max(1.0, (when - story.published).total_seconds() / 3600)
    return int((1 + zlib.crc32(story.key.encode()[::-1]) % 8) * hours**0.5)


class Article(NamedTuple):
    """What a page capture shows a reader: the text extraction must recover, exactly."""

    url: str
    headline: str
    byline: tuple[str, ...]
    paragraphs: tuple[str, ...]

    @property
    def body(self) -> str:
        """The paragraphs as normalized markdown (crossheads as "## ")."""
        return "\n\n".join(self.paragraphs) + "\n"


def build() -> dict[str, bytes]:
    """Every capture file: "<time>/<host>/<path>" → bytes."""
    return build_with_articles()[0]


def articles() -> dict[str, Article]:
    """Every page capture ("<time>/<host>/<path>") → the article it shows."""
    return build_with_articles()[1]


def build_with_articles() -> tuple[dict[str, bytes], dict[str, Article]]:
    for story in STORIES:
        times = [e.at for e in story.edits]
        if sorted(set(times)) != times or (times and times[0] <= story.first):
            raise ValueError(f"{story.key}: edits must be dated after it appears, in order")
        if story.first not in grid() or any(time not in grid() for time in times):
            raise ValueError(f"{story.key}: every date must be a capture time")
    states: dict[str, StoryState] = {}
    files: dict[str, bytes] = {}
    shown: dict[str, Article] = {}
    feeds: dict[str, object] = {}
    for when in grid():
        written: set[str] = set()  # keys of stories whose page is written now
        for story in STORIES:
            if story.first == when:
                states[story.key] = StoryState(story.headline, story.byline, story.paragraphs)
                written.add(story.key)
            for edit in story.edits:
                if edit.at == when:
                    apply(edit, states[story.key], story)
                    written.add(story.key)
        for story in STORIES:
            state = states.get(story.key)
            outlet = OUTLETS[story.outlet]
            if state and state.live and when in outlet.redesigns:
                written.add(story.key)
        for story in STORIES:
            if story.key not in written:
                continue
            state = states[story.key]
            name = f"{stamp(when)}/{file_of(url_of(story))}"
            if state.live:
                files[name] = render_page(story, state, states, when).encode("utf-8")
                shown[name] = Article(
                    url_of(story), state.headline, state.byline, tuple(state.paragraphs)
                )
            else:
                files[name + GONE_SUFFIX] = b""
        for key, outlet in OUTLETS.items():
            listing = live_stories(key, states)
            content = [(url_of(s), states[s.key].headline, states[s.key].updated) for s in listing]
            if feeds.get(key) != content:
                feeds[key] = content
                name = f"{stamp(when)}/{outlet.host}{outlet.feed_path}"
                files[name] = render_feed(outlet, listing, states, when).encode("utf-8")
    check(files)
    return files, shown


def live_stories(outlet: str, states: dict[str, StoryState]) -> list[Story]:
    """The outlet's stories served now, newest first."""
    live = [s for s in STORIES if s.outlet == outlet and s.key in states and states[s.key].live]
    return sorted(live, key=lambda s: s.published, reverse=True)


def render_page(
    story: Story, state: StoryState, states: dict[str, StoryState], when: datetime
) -> str:
    outlet = OUTLETS[story.outlet]
    others = [s for s in live_stories(story.outlet, states) if s.key != story.key]
    same_section = [s for s in others if s.section == story.section]
    picks = (same_section + [s for s in others if s not in same_section])[:3]
    ranked = sorted(others, key=lambda s: (-shares(s, when), s.key))
    ctx = PageContext(
        outlet=outlet,
        story=story,
        url=url_of(story),
        headline=state.headline,
        byline=state.byline,
        paragraphs=list(state.paragraphs),
        published=story.published,
        updated=state.updated,
        when=when,
        related=[(url_of(s), states[s.key].headline, s.published) for s in picks],
        latest=[(url_of(s), states[s.key].headline, s.published) for s in others or [story]],
        most_read=[(url_of(s), states[s.key].headline, s.published) for s in ranked or [story]],
        shares=shares(story, when),
        comments=comments(story, when),
        number=story_number(story),
    )
    return outlet.template(when)(ctx)


# --- feeds ---------------------------------------------------------------------------------------


def rfc822(when: datetime) -> str:
    day = DAYS[when.weekday()][:3]
    return f"{day}, {when.day:02d} {MONTHS[when.month - 1][:3]} {when.year} {when:%H:%M:%S} +0000"


def xml_text(text: str) -> str:
    return html.escape(text, quote=False)


def render_feed(
    outlet: Outlet, listing: list[Story], states: dict[str, StoryState], when: datetime
) -> str:
    if outlet.feed_kind == "rss":
        return rss(outlet, listing, states, when)
    if outlet.feed_kind == "atom":
        return atom(outlet, listing, states, when)
    return news_sitemap(outlet, listing, states)


def rss(outlet: Outlet, listing: list[Story], states: dict[str, StoryState], when: datetime) -> str:
    items = "".join(
        f"""    <item>
      <title>{xml_text(states[s.key].headline)}</title>
      <link>{xml_text(url_of(s))}</link>
      <guid isPermaLink="true">{xml_text(url_of(s))}</guid>
      <description>{xml_text(s.summary)}</description>
      <dc:creator>{xml_text(names(states[s.key].byline))}</dc:creator>
      <category>{xml_text(s.section)}</category>
      <pubDate>{rfc822(s.published)}</pubDate>
    </item>
"""
        for s in listing
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" \
xmlns:atom="http://www.w3.org/2005/Atom">
  <channel>
    <title>{xml_text(outlet.name)}</title>
    <link>http://{outlet.host}/</link>
    <atom:link href="http://{outlet.host}{outlet.feed_path}" rel="self" \
type="application/rss+xml"/>
    <description>News from Northgate and the Lenn Valley</description>
    <language>en-gb</language>
    <lastBuildDate>{rfc822(when)}</lastBuildDate>
    <ttl>15</ttl>
{items}  </channel>
</rss>
"""


def atom_authors(byline: tuple[str, ...]) -> str:
    return "".join(f"    <author><name>{xml_text(n)}</name></author>\n" for n in byline)


def atom(
    outlet: Outlet, listing: list[Story], states: dict[str, StoryState], when: datetime
) -> str:
    entries = "".join(
        f"""  <entry>
    <title type="text">{xml_text(states[s.key].headline)}</title>
    <link rel="alternate" type="text/html" href="{esc(url_of(s))}"/>
    <id>tag:{outlet.host},2025:post-{story_number(s)}</id>
    <published>{iso(s.published)}</published>
    <updated>{iso(states[s.key].updated or s.published)}</updated>
{atom_authors(states[s.key].byline)}\
    <category term="{esc(s.section)}"/>
    <summary type="text">{xml_text(s.summary)}</summary>
  </entry>
"""
        for s in listing
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en-GB">
  <title type="text">{xml_text(outlet.name)}</title>
  <subtitle type="text">News from the harbour town since 1871</subtitle>
  <id>tag:{outlet.host},2025:feed</id>
  <updated>{iso(when)}</updated>
  <link rel="alternate" type="text/html" href="http://{outlet.host}/"/>
  <link rel="self" type="application/atom+xml" href="http://{outlet.host}{outlet.feed_path}"/>
  <generator>Courier CMS</generator>
{entries}</feed>
"""


def news_sitemap(outlet: Outlet, listing: list[Story], states: dict[str, StoryState]) -> str:
    urls = "".join(
        f"""  <url>
    <loc>{xml_text(url_of(s))}</loc>
    <lastmod>{iso(states[s.key].updated or s.published)}</lastmod>
    <news:news>
      <news:publication>
        <news:name>{xml_text(outlet.name)}</news:name>
        <news:language>en</news:language>
      </news:publication>
      <news:publication_date>{iso(s.published)}</news:publication_date>
      <news:title>{xml_text(states[s.key].headline)}</news:title>
    </news:news>
  </url>
"""
        for s in listing
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" \
xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
{urls}</urlset>
"""


# --- checks and output ---------------------------------------------------------------------


def check(files: dict[str, bytes]) -> None:
    """The promises the demo relies on: capture times at least 3 hours apart, every case's
    captures where CASES says they are."""
    times = sorted({name.split("/", 1)[0] for name in files})
    parsed = [datetime.strptime(s, TIME_FORMAT).replace(tzinfo=UTC) for s in times]
    for earlier, later in itertools.pairwise(parsed):
        if later - earlier < timedelta(hours=3):
            raise ValueError(f"captures {stamp(earlier)} and {stamp(later)} are too close")
    for kind, case in CASES.items():
        path = file_of(case.url)
        before, after = f"{case.before}/{path}", f"{case.after}/{path}"
        if kind in RETURNS:
            before += GONE_SUFFIX
        if kind in REMOVAL:
            after += GONE_SUFFIX
        if kind == "unchanged":
            written = [name for name in files if name.split("/", 1)[1] == path]
            if written != [before] or case.after != times[-1]:
                raise ValueError("unchanged: one capture at `before`; `after` the last time")
            continue
        for name in (before, after):
            if name not in files:
                raise ValueError(f"{kind}: {name} is not a capture")
    for kind in RETURNS:
        gone, back = CASES[kind].before, CASES[kind].after
        between = [s for s in times if gone <= s < back]
        if len(between) < 3 or parsed[times.index(between[-1])] - parsed[times.index(gone)] < (
            timedelta(hours=6)
        ):
            raise ValueError(f"{kind}: the removal must last 3 capture times and 6 hours")


def write(out: Path) -> int:
    files = build()
    if out.exists():
        strays = [p.name for p in out.iterdir() if not re.fullmatch(r"\d{4}-.*Z", p.name)]
        if strays:
            raise SystemExit(f"{out}: not a captures directory (holds {strays[0]})")
        shutil.rmtree(out)
    for name, data in sorted(files.items()):
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return len(files)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "captures", help="output directory")
    args = parser.parse_args(argv)
    count = write(args.out)
    print(f"{count} files written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
